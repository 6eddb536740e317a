package dev.ferry.access;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/** A set of address ranges written as CIDR blocks ({@code 10.0.0.0/8}, {@code 2001:db8::/32}) or single addresses. */
final class CidrSet {

    private record Block(byte[] network, int prefix) {}

    private final List<Block> blocks = new ArrayList<>();

    CidrSet(List<String> cidrs, String setting) {
        for (String cidr : cidrs) {
            String text = cidr.trim();
            if (text.isEmpty()) {
                continue;
            }
            int slash = text.indexOf('/');
            String address = slash < 0 ? text : text.substring(0, slash);
            if (!address.matches("[0-9a-fA-F:.]+")) {
                throw new IllegalArgumentException(setting + ": '" + text + "' is not an IP address or CIDR block");
            }
            try {
                byte[] bytes = InetAddress.getByName(address).getAddress(); // a literal: parsed, never looked up
                int prefix = slash < 0 ? bytes.length * 8 : Integer.parseInt(text.substring(slash + 1));
                if (prefix < 0 || prefix > bytes.length * 8) {
                    throw new IllegalArgumentException(setting + ": '" + text + "' has an invalid prefix length");
                }
                blocks.add(new Block(bytes, prefix));
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException(setting + ": '" + text + "' is not an IP address or CIDR block");
            }
        }
    }

    boolean isEmpty() {
        return blocks.isEmpty();
    }

    boolean contains(String address) {
        if (blocks.isEmpty() || address == null || !address.matches("[0-9a-fA-F:.%]+")) {
            return false;
        }
        try {
            String bare = address.contains("%") ? address.substring(0, address.indexOf('%')) : address;
            byte[] bytes = InetAddress.getByName(bare).getAddress();
            for (Block b : blocks) {
                if (b.network().length == bytes.length && samePrefix(b.network(), bytes, b.prefix())) {
                    return true;
                }
            }
            return false;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static boolean samePrefix(byte[] a, byte[] b, int bits) {
        BigInteger mask = bits == 0
                ? BigInteger.ZERO
                : BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE).shiftLeft(a.length * 8 - bits);
        return new BigInteger(1, a).and(mask).equals(new BigInteger(1, b).and(mask));
    }
}
