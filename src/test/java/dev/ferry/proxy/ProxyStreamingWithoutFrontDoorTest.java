package dev.ferry.proxy;

import org.springframework.boot.test.context.SpringBootTest;

/** The same edges with the front door turned off: Tomcat owns the port and the proxy servlet relays everything. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "ferry.platform=local", "server.tomcat.connection-timeout=1s", "server.tomcat.keep-alive-timeout=1s",
        "ferry.proxy.front-door=false"})
class ProxyStreamingWithoutFrontDoorTest extends ProxyStreamingTest {
}
