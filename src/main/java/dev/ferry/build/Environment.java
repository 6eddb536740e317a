package dev.ferry.build;

/**
 * A built environment that sessions can be started from.
 *
 * @param key       the repository and commit it was built for
 * @param imageName the name shown to users and in BinderHub's {@code built}/{@code ready} events (a registry image on
 *                  kubernetes, {@code ferry-local/<slug>:<commit>} on the local platform)
 */
public record Environment(ImageKey key, String imageName) {}
