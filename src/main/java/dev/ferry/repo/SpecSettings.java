package dev.ferry.repo;

import java.util.Optional;

/** The per-spec settings that apply to one spec ({@code ferry.repo.spec-config}); empty fields use the defaults. */
public record SpecSettings(Optional<Integer> quota) {

    public static final SpecSettings DEFAULTS = new SpecSettings(Optional.empty());
}
