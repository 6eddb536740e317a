package dev.ferry.buildpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code [compat] julia} read as Pkg reads a bound, to the image tag of the newest Julia it allows. */
class JuliaCompatTest {

    @ParameterizedTest(name = "julia = \"{0}\" → julia:{1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "=1.3|1.3.0", // exact: = pads with zeros, it is not 1.3's newest patch
                "=1.6.7|1.6.7",
                "1.6|1", // caret (Pkg's default): any 1.x from 1.6 on, the newest is the newest 1.x
                "^1.6|1",
                "1|1",
                "1.6.2|1",
                "0.7|0.7", // caret below 1.0 fixes the minor version
                "0.0.3|0.0.3",
                "~1.6|1.6", // tilde: the newest 1.6.x
                "~1.6.2|1.6",
                "~1|1",
                "1.6, 1.7|1", // a union: the newest of either
                "=1.3, =1.5.2|1.5.2",
                "~1.9, =1.6|1.9",
                ">= 1.6|1",
                "≥ 1.6|1",
                "< 1.7|1.6",
                "<= 1.8|1.8",
                "1.6 - 1.8|1.8",
            })
    void boundsBecomeTheTagOfTheNewestJuliaTheyAllow(String bound, String tag) {
        assertThat(JuliaCompat.imageTag(bound)).isEqualTo(tag);
    }

    @ParameterizedTest
    @ValueSource(strings = {"latest", "1.6 || 1.7", "1.6; rm -rf /", "", "=", "< 1"})
    void unreadableBoundsAreRefusedWithASentence(String bound) {
        assertThatThrownBy(() -> JuliaCompat.imageTag(bound))
                .isInstanceOf(BuildpackException.class)
                .hasMessageContaining("is not a version bound Ferry can read");
    }
}
