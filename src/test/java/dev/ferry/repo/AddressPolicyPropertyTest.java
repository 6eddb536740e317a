package dev.ferry.repo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;

import org.junit.jupiter.api.Test;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;

import dev.ferry.testing.PropertyRuns;

/**
 * Non-public IPv4 addresses stay non-public in every IPv6 form that embeds them, and a DNS name that resolves to any
 * of these forms is refused by the guard.
 */
@AddLifecycleHook(PropertyRuns.class)
class AddressPolicyPropertyTest {

    @Property
    void everyIpv6EmbeddingOfANonPublicIpv4AddressIsNonPublic(
            @ForAll("nonPublicV4") byte[] v4, @ForAll("embeddings") int embedding) throws Exception {
        InetAddress address = InetAddress.getByAddress(embed(v4, embedding));
        assertThat(AddressPolicy.nonPublicReason(address)).as("%s", address).isPresent();
    }

    @Property
    void aNameResolvingToANonPublicAddressIsRefused(
            @ForAll("nonPublicV4") byte[] v4, @ForAll("embeddings") int embedding, @ForAll boolean alsoPublic)
            throws Exception {
        InetAddress bad = embedding < 0 ? InetAddress.getByAddress(v4) : InetAddress.getByAddress(embed(v4, embedding));
        InetAddress good = InetAddress.getByName(HostileResolver.PUBLIC_V4);
        InetAddress[] answer = alsoPublic ? new InetAddress[] {good, bad} : new InetAddress[] {bad};
        UrlGuard guard = new UrlGuard(List.of("https"), false, host -> answer);
        try {
            guard.check("https://repo.example.org/r.git");
        } catch (RepoException refused) {
            assertThat(refused.status()).isEqualTo(403);
            return;
        }
        throw new AssertionError("accepted a name resolving to " + bad);
    }

    @Test
    void ipv4TranslatedAndLocalNat64FormsOfLoopbackAreNonPublic() throws Exception {
        for (String literal :
                List.of("::ffff:0:7f00:1", "64:ff9b:1::7f00:1", "::ffff:0:a9fe:a9fe", "64:ff9b:1::a00:1")) {
            assertThat(AddressPolicy.nonPublicReason(InetAddress.getByName("[" + literal + "]")))
                    .as(literal)
                    .isPresent();
        }
    }

    @Provide
    Arbitrary<byte[]> nonPublicV4() {
        Arbitrary<int[]> prefix = Arbitraries.of(
                new int[] {0},
                new int[] {127},
                new int[] {10},
                new int[] {172, 16},
                new int[] {172, 31},
                new int[] {192, 168},
                new int[] {169, 254},
                new int[] {100, 64},
                new int[] {100, 127},
                new int[] {224},
                new int[] {239},
                new int[] {240},
                new int[] {255},
                new int[] {192, 0, 0},
                new int[] {198, 18});
        return Combinators.combine(
                        prefix, Arbitraries.bytes().array(byte[].class).ofSize(4))
                .as((p, random) -> {
                    byte[] out = random.clone();
                    for (int i = 0; i < p.length; i++) {
                        out[i] = (byte) p[i];
                    }
                    return out;
                });
    }

    @Provide
    Arbitrary<Integer> embeddings() {
        return Arbitraries.integers().between(0, 5);
    }

    /** IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64 well-known, NAT64 local-use, 6to4. */
    private static byte[] embed(byte[] v4, int embedding) {
        byte[] a = new byte[16];
        int at = 12;
        switch (embedding) {
            case 0 -> {
                a[10] = (byte) 0xff;
                a[11] = (byte) 0xff;
            }
            case 1 -> {}
            case 2 -> {
                a[8] = (byte) 0xff;
                a[9] = (byte) 0xff;
            }
            case 3 -> {
                a[1] = 0x64;
                a[2] = (byte) 0xff;
                a[3] = (byte) 0x9b;
            }
            case 4 -> {
                a[1] = 0x64;
                a[2] = (byte) 0xff;
                a[3] = (byte) 0x9b;
                a[5] = 0x01;
            }
            default -> {
                a[0] = 0x20;
                a[1] = 0x02;
                at = 2;
            }
        }
        System.arraycopy(v4, 0, a, at, 4);
        return a;
    }
}
