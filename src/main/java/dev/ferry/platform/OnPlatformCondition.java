package dev.ferry.platform;

import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

final class OnPlatformCondition implements Condition {

    @Override
    public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
        Object wanted =
                metadata.getAnnotationAttributes(OnPlatform.class.getName()).get("value");
        return wanted.equals(Platforms.chosen(context.getEnvironment()));
    }
}
