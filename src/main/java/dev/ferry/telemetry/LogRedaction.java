package dev.ferry.telemetry;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.regex.Pattern;

import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.logging.LoggingApplicationListener;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.event.SmartApplicationListener;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.spi.AppenderAttachable;

/**
 * Takes secrets out of every log line, whoever logs it: session tokens in query strings ({@code ?token=…}, which
 * Tomcat prints with the request line when it cannot parse a request), {@code Authorization} and {@code Cookie}
 * headers (also as JSON members), and {@code user:password@} in URLs. Each appender's encoder is wrapped once logging is set up, so the
 * message, the exception and anything else the pattern prints are all redacted, in every pattern or structured format.
 */
public final class LogRedaction implements SmartApplicationListener {

    private static final Pattern QUERY_SECRET =
            Pattern.compile("(?i)((?:token|access_token|password|secret)=)[^&\\s\"'\\]\\[#;,]+");
    private static final Pattern AUTHORIZATION = Pattern.compile(
            "(?i)((?:proxy-)?authorization\\s*[:=]\\s*)(?:(?:basic|bearer|token|digest|negotiate)\\s+)?[^\\s,;}\\]]+");
    /** A cookie header's value runs to the end of the line (cookies are separated by "; "). */
    private static final Pattern COOKIE = Pattern.compile("(?i)((?:set-)?cookie\\s*[:=]\\s*)[^\\r\\n]+");
    /**
     * The same secrets as JSON members ({@code "Authorization":"Basic …"}, {@code "token":"…"}), also as they appear
     * escaped inside a JSON log line's message ({@code \"token\":\"…\"}).
     */
    private static final Pattern JSON_SECRET = Pattern.compile(
            "(?i)(\\\\?\"(?:(?:proxy-)?authorization|(?:set-)?cookie|token|access_token|password|secret)\\\\?\"\\s*:\\s*\\\\?\")"
                    + "(?:[^\"\\\\]|\\\\[^\"])*");

    private static final Pattern USER_INFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\\s]*@");

    /** The line with every secret replaced by {@code ***}. */
    static String redact(String line) {
        String out = JSON_SECRET.matcher(line).replaceAll("$1***");
        out = QUERY_SECRET.matcher(out).replaceAll("$1***");
        out = AUTHORIZATION.matcher(out).replaceAll("$1***");
        out = COOKIE.matcher(out).replaceAll("$1***");
        return USER_INFO.matcher(out).replaceAll("$1***@");
    }

    @Override
    public boolean supportsEventType(Class<? extends ApplicationEvent> eventType) {
        return ApplicationEnvironmentPreparedEvent.class.isAssignableFrom(eventType);
    }

    @Override
    public void onApplicationEvent(ApplicationEvent event) {
        install();
    }

    /** Right after Spring Boot set logging up (it does so on the same event, and again for every application). */
    @Override
    public int getOrder() {
        return LoggingApplicationListener.DEFAULT_ORDER + 1;
    }

    /** Wraps the encoder of every appender that writes lines; idempotent. */
    static void install() {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context)) {
            return;
        }
        for (Logger logger : context.getLoggerList()) {
            wrap(logger.iteratorForAppenders());
        }
    }

    /** Appenders that write, and those inside appenders that pass events on (an AsyncAppender's). */
    private static void wrap(Iterator<Appender<ILoggingEvent>> appenders) {
        while (appenders.hasNext()) {
            Appender<ILoggingEvent> next = appenders.next();
            if (next instanceof OutputStreamAppender<ILoggingEvent> appender
                    && appender.getEncoder() != null
                    && !(appender.getEncoder() instanceof Redacting)) {
                appender.setEncoder(new Redacting(appender.getEncoder()));
            }
            if (next instanceof AppenderAttachable<?> attachable) {
                @SuppressWarnings("unchecked")
                AppenderAttachable<ILoggingEvent> parent = (AppenderAttachable<ILoggingEvent>) attachable;
                wrap(parent.iteratorForAppenders());
            }
        }
    }

    /** An encoder that redacts what another one encoded. */
    private static final class Redacting extends EncoderBase<ILoggingEvent> {
        private final Encoder<ILoggingEvent> delegate;

        Redacting(Encoder<ILoggingEvent> delegate) {
            this.delegate = delegate;
            setContext(delegate.getContext());
            start();
        }

        @Override
        public byte[] headerBytes() {
            return delegate.headerBytes();
        }

        @Override
        public byte[] encode(ILoggingEvent event) {
            byte[] encoded = delegate.encode(event);
            if (encoded == null) {
                return null;
            }
            // every encoder Spring Boot sets up writes UTF-8 (logging.charset.*); lines without a secret pass unchanged
            String line = new String(encoded, StandardCharsets.UTF_8);
            String redacted = redact(line);
            return redacted.equals(line) ? encoded : redacted.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] footerBytes() {
            return delegate.footerBytes();
        }
    }
}
