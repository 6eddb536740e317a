package dev.ferry.platform.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ImageReferenceTest {

    private static final String DIGEST = "sha256:" + "a".repeat(64);

    @Test
    void splitsARegistryWithAPortFromTheRepositoryAndTag() {
        assertThat(ImageReference.parse("127.0.0.1:5000/ferry/demo:abc123"))
                .isEqualTo(new ImageReference("127.0.0.1:5000", "ferry/demo", "abc123"));
    }

    @Test
    void namesWithoutARegistryAreOnDockerHubUnderLibrary() {
        assertThat(ImageReference.parse("python"))
                .isEqualTo(new ImageReference(ImageReference.DOCKER_HUB, "library/python", "latest"));
        assertThat(ImageReference.parse("docker.io/jupyter/base-notebook:2024"))
                .isEqualTo(new ImageReference(ImageReference.DOCKER_HUB, "jupyter/base-notebook", "2024"));
    }

    @Test
    void aDigestWinsOverATag() {
        ImageReference image = ImageReference.parse("localhost/ferry/demo:abc@" + DIGEST);
        assertThat(image.tag()).isEqualTo(DIGEST);
        assertThat(image.pinsDigest()).isTrue();
        assertThat(image).hasToString("localhost/ferry/demo@" + DIGEST);
    }

    @Test
    void invalidNamesAreRefusedWithASentence() {
        assertThatThrownBy(() -> ImageReference.parse("registry.example.org/Ferry/Demo:abc"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a valid image name");
        assertThatThrownBy(() -> ImageReference.parse("registry.example.org/ferry/demo:-abc"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ImageReference.parse(" ")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRegistryUrlFollowsInsecure() {
        ImageReference image = ImageReference.parse("registry.example.org:5000/ferry/demo:abc");
        assertThat(image.registryUrl(false)).hasToString("https://registry.example.org:5000");
        assertThat(image.registryUrl(true)).hasToString("http://registry.example.org:5000");
    }
}
