package dev.ferry.repo;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Resolves a host name to addresses. The production resolver is the JVM's; tests inject one that never leaves the machine. */
@FunctionalInterface
public interface HostResolver {

    InetAddress[] resolve(String host) throws UnknownHostException;

    static HostResolver system() {
        return InetAddress::getAllByName;
    }
}
