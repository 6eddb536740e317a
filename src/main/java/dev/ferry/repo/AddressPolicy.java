package dev.ferry.repo;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Decides whether an address is on the public internet. Anything that could reach inside the operator's network
 * (loopback, RFC 1918, carrier-grade NAT, link-local including cloud metadata at 169.254.169.254, unique-local
 * IPv6, unspecified, multicast, reserved, and IPv6 forms that embed such an IPv4 address) is not.
 */
public final class AddressPolicy {

    private AddressPolicy() {}

    /** Why the address is not public, or empty when it is. */
    public static Optional<String> nonPublicReason(InetAddress address) {
        if (address instanceof Inet4Address) {
            return ipv4Reason(address.getAddress());
        }
        if (address instanceof Inet6Address) {
            return ipv6Reason(address.getAddress());
        }
        return Optional.of("an unknown kind of address");
    }

    private static Optional<String> ipv4Reason(byte[] a) {
        int b0 = a[0] & 0xff;
        int b1 = a[1] & 0xff;
        int b2 = a[2] & 0xff;
        if (b0 == 0) {
            return Optional.of("an unspecified address");
        }
        if (b0 == 127) {
            return Optional.of("a loopback address");
        }
        if (b0 == 10 || (b0 == 172 && b1 >= 16 && b1 <= 31) || (b0 == 192 && b1 == 168)) {
            return Optional.of("a private network address");
        }
        if (b0 == 100 && b1 >= 64 && b1 <= 127) {
            return Optional.of("a shared (carrier-grade NAT) address");
        }
        if (b0 == 169 && b1 == 254) {
            return Optional.of("a link-local address");
        }
        if (b0 == 192 && b1 == 0 && b2 == 0) {
            return Optional.of("a reserved address");
        }
        if (b0 == 198 && (b1 == 18 || b1 == 19)) {
            return Optional.of("a reserved address");
        }
        if (b0 >= 224 && b0 <= 239) {
            return Optional.of("a multicast address");
        }
        if (b0 >= 240) {
            return Optional.of("a reserved address");
        }
        return Optional.empty();
    }

    private static Optional<String> ipv6Reason(byte[] a) {
        boolean first10Zero = true;
        for (int i = 0; i < 10; i++) {
            first10Zero &= a[i] == 0;
        }
        boolean first12Zero = first10Zero && a[10] == 0 && a[11] == 0;
        if (first12Zero) {
            boolean lastZero = a[12] == 0 && a[13] == 0 && a[14] == 0;
            if (lastZero && a[15] == 0) {
                return Optional.of("an unspecified address");
            }
            if (lastZero && a[15] == 1) {
                return Optional.of("a loopback address");
            }
            return embedded(a, 12); // IPv4-compatible ::a.b.c.d
        }
        if (first10Zero && (a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff) {
            return embedded(a, 12); // IPv4-mapped ::ffff:a.b.c.d
        }
        boolean first8Zero =
                a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0 && a[4] == 0 && a[5] == 0 && a[6] == 0 && a[7] == 0;
        if (first8Zero && (a[8] & 0xff) == 0xff && (a[9] & 0xff) == 0xff && a[10] == 0 && a[11] == 0) {
            return embedded(a, 12); // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765)
        }
        int b0 = a[0] & 0xff;
        int b1 = a[1] & 0xff;
        if (b0 == 0xff) {
            return Optional.of("a multicast address");
        }
        if (b0 == 0xfe && (b1 & 0xc0) == 0x80) {
            return Optional.of("a link-local address");
        }
        if (b0 == 0xfe && (b1 & 0xc0) == 0xc0) {
            return Optional.of("a site-local address");
        }
        if ((b0 & 0xfe) == 0xfc) {
            return Optional.of("a private (unique local) address");
        }
        if (b0 == 0x00 && b1 == 0x64 && (a[2] & 0xff) == 0xff && (a[3] & 0xff) == 0x9b) {
            if (a[4] == 0 && a[5] == 1) {
                return Optional.of(
                        "a local-use NAT64 address"); // 64:ff9b:1::/48, translated inside the operator's network
            }
            return embedded(a, 12); // NAT64 64:ff9b::/96
        }
        if (b0 == 0x20 && b1 == 0x02) {
            return embedded(a, 2); // 6to4 2002::/16
        }
        if (b0 == 0x20 && b1 == 0x01 && a[2] == 0 && a[3] == 0) {
            return Optional.of("a Teredo tunnel address");
        }
        if (b0 == 0x01 && b1 == 0x00 && a[2] == 0 && a[3] == 0) {
            return Optional.of("a discard-only address");
        }
        return Optional.empty();
    }

    private static Optional<String> embedded(byte[] a, int offset) {
        byte[] v4 = new byte[] {a[offset], a[offset + 1], a[offset + 2], a[offset + 3]};
        try {
            return ipv4Reason(InetAddress.getByAddress(v4).getAddress());
        } catch (UnknownHostException e) {
            return Optional.of("an invalid address");
        }
    }
}
