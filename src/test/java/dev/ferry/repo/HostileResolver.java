package dev.ferry.repo;

import java.net.IDN;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A resolver for tests that never leaves the machine and reads names as loosely as any real resolver might: numbers
 * in every form glibc's {@code inet_aton} accepts (decimal, octal, hex, 1 to 4 parts), IPv6 literals with zone ids,
 * Unicode dots and full-width digits folded as IDNA would, case and one trailing dot ignored. A few names resolve to
 * public or to private addresses; anything else is unknown.
 */
final class HostileResolver implements HostResolver {

    static final String PUBLIC_V4 = "93.184.216.34";

    private static final Map<String, List<String>> NAMES = Map.of(
            "good.example", List.of(PUBLIC_V4),
            "git.example.org", List.of(PUBLIC_V4),
            "v6.example.org", List.of("2606:2800:220:1:248:1893:25c8:1946"),
            "localhost", List.of("127.0.0.1", "::1"),
            "evil.example", List.of("127.0.0.1"),
            "internal.example", List.of("10.1.2.3"),
            "meta.example", List.of("169.254.169.254"),
            "meta6.example", List.of("fd00:ec2::254"),
            "mixed.example", List.of(PUBLIC_V4, "192.168.0.1"));

    final List<String> asked = new CopyOnWriteArrayList<>();

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        asked.add(host);
        return lookUp(host);
    }

    static InetAddress[] lookUp(String host) throws UnknownHostException {
        String name = Normalizer.normalize(host, Normalizer.Form.NFKC)
                .replace('\u3002', '.')
                .replace('\uff0e', '.')
                .replace('\uff61', '.')
                .toLowerCase(Locale.ROOT);
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        if (name.contains(":")) {
            try {
                return new InetAddress[] {InetAddress.getByName("[" + name.replaceFirst("%.*$", "") + "]")};
            } catch (UnknownHostException | RuntimeException e) {
                throw new UnknownHostException(host);
            }
        }
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        byte[] v4 = inetAton(name);
        if (v4 != null) {
            return new InetAddress[] {InetAddress.getByAddress(v4)};
        }
        try {
            name = IDN.toASCII(name).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new UnknownHostException(host);
        }
        List<String> addresses = NAMES.get(name);
        if (addresses == null) {
            throw new UnknownHostException(host);
        }
        InetAddress[] out = new InetAddress[addresses.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = InetAddress.getByName(addresses.get(i)); // literals: parsed, not looked up
        }
        return out;
    }

    /** glibc's reading of a numeric host: 1–4 parts, each decimal, 0-prefixed octal or 0x-prefixed hex. */
    static byte[] inetAton(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length < 1 || parts.length > 4) {
            return null;
        }
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            try {
                if (p.matches("0[xX][0-9a-fA-F]*")) {
                    values[i] = p.length() == 2 ? 0 : Long.parseLong(p.substring(2), 16);
                } else if (p.matches("0[0-7]*")) {
                    values[i] = Long.parseLong(p, 8);
                } else if (p.matches("[1-9][0-9]*")) {
                    values[i] = Long.parseLong(p);
                } else {
                    return null;
                }
            } catch (NumberFormatException e) {
                return null;
            }
        }
        long value = 0;
        for (int i = 0; i < values.length - 1; i++) {
            if (values[i] > 255) {
                return null;
            }
            value |= values[i] << (8 * (3 - i));
        }
        long last = values[values.length - 1];
        if (last >= (1L << (8 * (5 - values.length)))) {
            return null;
        }
        value |= last;
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }
}
