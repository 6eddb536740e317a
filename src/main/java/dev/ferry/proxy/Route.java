package dev.ferry.proxy;

/**
 * Where one session's traffic goes, and when it last carried any. {@link #touch()} is called for every chunk of bytes
 * in either direction, so it is a plain volatile write.
 */
public final class Route {

    private final String sessionId;
    private final String host;
    private final int port;
    private volatile long lastActivityMillis;

    public Route(String sessionId, String host, int port) {
        this.sessionId = sessionId;
        this.host = host;
        this.port = port;
        this.lastActivityMillis = System.currentTimeMillis();
    }

    public String sessionId() {
        return sessionId;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public void touch() {
        lastActivityMillis = System.currentTimeMillis();
    }

    /** Records activity seen elsewhere (another portal replica) at {@code millis}; never moves the time back. */
    public void touchAt(long millis) {
        if (millis > lastActivityMillis) {
            lastActivityMillis = millis;
        }
    }

    public long lastActivityMillis() {
        return lastActivityMillis;
    }

    @Override
    public String toString() {
        return sessionId + " -> " + host + ":" + port;
    }
}
