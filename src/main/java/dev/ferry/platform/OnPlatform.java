package dev.ferry.platform;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.context.annotation.Conditional;

/** Registers a configuration only when {@code ferry.platform} (resolved by {@link Platforms}) is the given one. */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Conditional(OnPlatformCondition.class)
public @interface OnPlatform {

    String value();
}
