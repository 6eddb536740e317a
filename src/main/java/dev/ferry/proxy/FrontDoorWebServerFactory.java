package dev.ferry.proxy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

import org.apache.catalina.Valve;
import org.apache.catalina.startup.Tomcat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.GracefulShutdownCallback;
import org.springframework.boot.web.server.PortInUseException;
import org.springframework.boot.web.server.Shutdown;
import org.springframework.boot.web.server.Ssl;
import org.springframework.boot.web.server.WebServer;
import org.springframework.boot.web.server.WebServerException;
import org.springframework.boot.web.servlet.ServletContextInitializer;
import org.springframework.util.StringUtils;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

/**
 * Tomcat behind the {@link FrontDoor}: the front door takes the configured address and port ({@code server.port}),
 * Tomcat a free loopback port that only the front door uses. The web server Spring sees reports the front door's
 * port, so {@code local.server.port} and everything built on it point at the front door.
 *
 * <p>TLS ({@code server.ssl.*}) is terminated by the front door with the same key material; Tomcat stays plain HTTP on
 * loopback and learns the scheme from the front door ({@link FrontDoorPeerValve}). Without a web server (a management
 * port of its own) this is Tomcat as Spring Boot configures it.
 */
class FrontDoorWebServerFactory extends TomcatServletWebServerFactory {

    private static final Logger log = LoggerFactory.getLogger(FrontDoorWebServerFactory.class);

    private final Supplier<FrontDoor> frontDoor;
    private FrontDoor starting;
    private InetAddress publicAddress;
    private int publicPort;

    /** Plain Tomcat (how Spring Boot instantiates a factory of this type for a separate management port). */
    FrontDoorWebServerFactory() {
        this(() -> null);
    }

    FrontDoorWebServerFactory(Supplier<FrontDoor> frontDoor) {
        this.frontDoor = frontDoor;
    }

    @Override
    public WebServer getWebServer(ServletContextInitializer... initializers) {
        FrontDoor door = getPort() < 0 ? null : frontDoor.get();
        if (door == null) {
            return super.getWebServer(initializers);
        }
        Ssl ssl = getSsl();
        boolean tls = ssl != null && ssl.isEnabled();
        if (tls) {
            door.useTls(serverContext(getSslBundle()));
            reloadOnUpdate(ssl, door);
        }
        List<Valve> valves = new ArrayList<>();
        valves.add(new FrontDoorPeerValve(door.secret())); // first: the remote-IP valve, if any, works on its result
        getEngineValves().stream()
                .filter(v -> !(v instanceof FrontDoorPeerValve))
                .forEach(valves::add);
        setEngineValves(valves);
        starting = door;
        publicAddress = getAddress();
        publicPort = getPort();
        setPort(0);
        setAddress(InetAddress.getLoopbackAddress());
        setSsl(null); // the door terminates TLS; Tomcat behind it speaks plain HTTP on loopback
        try {
            return super.getWebServer(initializers);
        } finally {
            setPort(publicPort);
            setAddress(publicAddress);
            setSsl(ssl);
            starting = null;
        }
    }

    /**
     * The {@code server.ssl.*} settings (key store or PEM, or a named bundle) as Spring Boot reads them for Tomcat,
     * as a Netty server context.
     */
    private SslContext serverContext(SslBundle bundle) {
        try {
            SslContextBuilder builder =
                    SslContextBuilder.forServer(bundle.getManagers().getKeyManagerFactory());
            Ssl.ClientAuth clientAuth = getSsl().getClientAuth();
            if (clientAuth == Ssl.ClientAuth.NEED || clientAuth == Ssl.ClientAuth.WANT) {
                builder.trustManager(bundle.getManagers().getTrustManagerFactory())
                        .clientAuth(clientAuth == Ssl.ClientAuth.NEED ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
            }
            String[] protocols = bundle.getOptions().getEnabledProtocols();
            if (protocols != null) {
                builder.protocols(protocols);
            }
            String[] ciphers = bundle.getOptions().getCiphers();
            if (ciphers != null) {
                builder.ciphers(Arrays.asList(ciphers));
            }
            return builder.build();
        } catch (SSLException e) {
            throw new WebServerException("The TLS settings (server.ssl.*) could not be used: " + e.getMessage(), e);
        }
    }

    /**
     * A named bundle ({@code server.ssl.bundle}) with {@code reload-on-update} gives the door its new certificate when
     * its files change (cert-manager renewing it, say), as Spring Boot does for Tomcat: new connections get it, open
     * ones keep theirs. A renewal the door cannot use is logged, and the door keeps the certificate it has.
     */
    private void reloadOnUpdate(Ssl ssl, FrontDoor door) {
        SslBundles bundles = getSslBundles();
        if (bundles == null || !StringUtils.hasText(ssl.getBundle())) {
            return;
        }
        bundles.addBundleUpdateHandler(ssl.getBundle(), updated -> {
            try {
                door.useTls(serverContext(updated));
                log.info("TLS bundle '{}' was updated: new connections get its certificate", ssl.getBundle());
            } catch (WebServerException e) {
                log.warn(
                        "TLS bundle '{}' was updated but cannot be used; the previous certificate stays: {}",
                        ssl.getBundle(),
                        e.getMessage());
            }
        });
    }

    @Override
    protected TomcatWebServer getTomcatWebServer(Tomcat tomcat) {
        if (starting == null) {
            return super.getTomcatWebServer(tomcat);
        }
        return new Fronted(tomcat, getShutdown(), starting, publicAddress, publicPort);
    }

    /** Tomcat, plus the front door: started after Tomcat, stopped before it, and the port Spring reports. */
    static final class Fronted extends TomcatWebServer {

        private final FrontDoor door;
        private final InetAddress address;
        private final int configuredPort;
        private volatile int port = -1;

        Fronted(Tomcat tomcat, Shutdown shutdown, FrontDoor door, InetAddress address, int configuredPort) {
            super(tomcat, true, shutdown);
            this.door = door;
            this.address = address;
            this.configuredPort = configuredPort;
        }

        @Override
        public void start() throws WebServerException {
            super.start();
            synchronized (this) {
                if (port >= 0) {
                    return;
                }
                try {
                    port = door.start(address, configuredPort, InetAddress.getLoopbackAddress(), super.getPort());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new WebServerException("Interrupted while starting the front door", e);
                } catch (RuntimeException e) {
                    super.stop();
                    PortInUseException.throwIfPortBindingException(e, () -> configuredPort);
                    throw new WebServerException("Unable to start the front door on port " + configuredPort, e);
                }
            }
        }

        @Override
        public int getPort() {
            int p = port;
            return p >= 0 ? p : super.getPort();
        }

        @Override
        public void shutDownGracefully(GracefulShutdownCallback callback) {
            door.drain();
            super.shutDownGracefully(result -> {
                // Tomcat's own requests are done; then the ones the front door relays to sessions. Spring stops the
                // server anyway when the shutdown phase's time is up.
                while (door.exchangesUnderWay() > 0 && port >= 0) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                callback.shutdownComplete(result);
            });
        }

        @Override
        public void stop() throws WebServerException {
            door.close();
            port = -1;
            super.stop();
        }

        @Override
        public void destroy() throws WebServerException {
            door.close();
            super.destroy();
        }
    }
}
