package dev.ferry.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Session ids and tokens carry at least 128 bits from a secure random source. */
class SecureIdsTest {

    @Test
    void sessionIdsAre160BitsOfLowercaseBase32ThatStartWithALetter() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = SecureIds.sessionId();
            assertThat(id).matches("[a-z][a-z2-7]{31}"); // 32 base32 characters = 160 bits, a valid DNS label
            assertThat(seen.add(id)).as("ids never repeat").isTrue();
        }
    }

    @Test
    void tokensAre256Bits() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String token = SecureIds.token();
            assertThat(Base64.getUrlDecoder().decode(token)).hasSize(32);
            assertThat(seen.add(token)).isTrue();
        }
    }

    @Test
    void bothComeFromSecureRandom() throws Exception {
        for (Field field : SecureIds.class.getDeclaredFields()) {
            if (java.util.Random.class.isAssignableFrom(field.getType())) {
                assertThat(field.getType()).isEqualTo(SecureRandom.class);
                assertThat(Modifier.isStatic(field.getModifiers())).isTrue();
            }
        }
        assertThat(SecureIds.class.getDeclaredField("RANDOM").getType()).isEqualTo(SecureRandom.class);
    }

    @Test
    void everyBitOfTheIdVaries() {
        // each of the 32 characters takes many values across ids: no fixed or low-entropy positions
        for (int position = 1; position < 32; position++) {
            Set<Character> values = new HashSet<>();
            for (int i = 0; i < 2_000; i++) {
                values.add(SecureIds.sessionId().charAt(position));
            }
            assertThat(values).as("position " + position).hasSize(32);
        }
    }
}
