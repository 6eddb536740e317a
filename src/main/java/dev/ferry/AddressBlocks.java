package dev.ferry;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;

/**
 * The unit every bound per address counts in: an IPv4 address as it is, an IPv6 address by its /64. One host is
 * usually given a whole /64 and can send from any address in it, so counting IPv6 addresses one by one would give it
 * 2^64 fresh allowances of every per-address bound (launch rate, event streams, workshop seats, admin logins, front-door
 * connections). Bans are not counted and still match the full address.
 */
public final class AddressBlocks {

    private AddressBlocks() {}

    /** The counting key of {@code address}. */
    public static String of(InetAddress address) {
        if (address instanceof Inet6Address) {
            return HexFormat.of().formatHex(address.getAddress(), 0, 8) + "::/64";
        }
        return address.getHostAddress();
    }

    /**
     * The counting key of an address as text (a connection's peer, or a hop from {@code X-Forwarded-For}): IPv6
     * literals (bracketed or not, with or without a zone) by their /64, IPv4-mapped IPv6 as the IPv4 address, anything
     * else as it is. Never a name lookup: only text with a colon is parsed, and Java reads such text as a literal.
     */
    public static String of(String address) {
        if (address == null || address.indexOf(':') < 0) {
            return address;
        }
        String literal =
                address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
        if (!literal.matches("[0-9a-fA-F:.%A-Za-z]+") || literal.indexOf(':') < 0) {
            return address;
        }
        try {
            return of(InetAddress.getByName(literal));
        } catch (UnknownHostException notAnAddress) {
            return address;
        }
    }
}
