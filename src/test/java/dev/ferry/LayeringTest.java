package dev.ferry;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

import dev.ferry.build.Builder;
import dev.ferry.session.SessionRuntime;

/**
 * The layering of the main code, read from its bytecode (so a type used by its full name, or a nested type of a
 * static import, counts as much as an import does). From the top: {@code web} (pages, the build API) and
 * {@code telemetry} (metrics and the launch event log, which only observe) → {@code workshop} → {@code launch} →
 * {@code cull}, {@code capacity} → {@code session} → {@code build}, {@code proxy} → {@code buildpack}, {@code repo},
 * {@code access}; the root package's utilities below all of them. {@code platform.local} and
 * {@code platform.kubernetes} implement the layers' interfaces ({@link Builder}, {@link SessionRuntime}) and wire
 * them; nothing in a layer uses them. docs/architecture.md says the same in words.
 */
class LayeringTest {

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.ferry");

    @Test
    void eachLayerUsesOnlyTheLayersBelowIt() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("web")
                .definedBy("dev.ferry.web..")
                .layer("telemetry")
                .definedBy("dev.ferry.telemetry..")
                .layer("workshop")
                .definedBy("dev.ferry.workshop..")
                .layer("launch")
                .definedBy("dev.ferry.launch..")
                .layer("cull")
                .definedBy("dev.ferry.cull..")
                .layer("capacity")
                .definedBy("dev.ferry.capacity..")
                .layer("session")
                .definedBy("dev.ferry.session..")
                .layer("build")
                .definedBy("dev.ferry.build..")
                .layer("proxy")
                .definedBy("dev.ferry.proxy..")
                .layer("buildpack")
                .definedBy("dev.ferry.buildpack..")
                .layer("repo")
                .definedBy("dev.ferry.repo..")
                .layer("access")
                .definedBy("dev.ferry.access..")
                .layer("platform choice")
                .definedBy("dev.ferry.platform")
                .layer("platforms")
                .definedBy("dev.ferry.platform.local..", "dev.ferry.platform.kubernetes..")
                .whereLayer("web")
                .mayOnlyAccessLayers(
                        "workshop",
                        "launch",
                        "cull",
                        "capacity",
                        "session",
                        "build",
                        "proxy",
                        "repo",
                        "access",
                        "platform choice")
                .whereLayer("telemetry")
                .mayOnlyAccessLayers("launch", "cull", "session", "build", "proxy", "repo")
                .whereLayer("workshop")
                .mayOnlyAccessLayers("launch", "capacity", "session", "build", "repo")
                .whereLayer("launch")
                .mayOnlyAccessLayers("capacity", "session", "build", "proxy", "repo")
                .whereLayer("cull")
                .mayOnlyAccessLayers("session")
                .whereLayer("capacity")
                .mayOnlyAccessLayers("session")
                .whereLayer("session")
                .mayOnlyAccessLayers("build", "proxy", "repo")
                .whereLayer("build")
                .mayOnlyAccessLayers("buildpack", "repo")
                .whereLayer("proxy")
                .mayOnlyAccessLayers("access")
                .whereLayer("buildpack")
                .mayOnlyAccessLayers("repo")
                .whereLayer("repo")
                .mayNotAccessAnyLayer()
                .whereLayer("access")
                .mayNotAccessAnyLayer()
                // the platforms implement and wire everything above; only the versions endpoint names the choice
                .whereLayer("platforms")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("platform choice")
                .mayOnlyBeAccessedByLayers("web", "platforms")
                .check(MAIN);
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.ferry.(*)..").should().beFreeOfCycles().check(MAIN);
    }

    /** The relay needs the routes it owns, the visitor's address (access) and the root utilities; nothing more. */
    @Test
    void proxyDependsOnlyOnAccessAndTheRootUtilities() {
        classes()
                .that()
                .resideInAPackage("dev.ferry.proxy..")
                .should()
                .onlyDependOnClassesThat(resideOutsideOfPackage("dev.ferry..")
                        .or(resideInAnyPackage("dev.ferry", "dev.ferry.proxy..", "dev.ferry.access..")))
                .check(MAIN);
    }

    /** The root package's utilities (durations, hashes, threads, the typed error…) stand below every capability. */
    @Test
    void rootUtilitiesUseNoCapability() {
        noClasses()
                .that()
                .resideInAPackage("dev.ferry")
                .and()
                .doNotHaveSimpleName("FerryApplication")
                .should()
                .dependOnClassesThat(resideInAPackage("dev.ferry..").and(not(resideInAPackage("dev.ferry"))))
                .check(MAIN);
    }

    @Test
    void onlyThePlatformsImplementTheBuilderAndTheSessionRuntime() {
        classes()
                .that()
                .implement(Builder.class)
                .or()
                .implement(SessionRuntime.class)
                .should()
                .resideInAnyPackage("dev.ferry.platform.local..", "dev.ferry.platform.kubernetes..")
                .check(MAIN);
    }
}
