package dev.ferry.buildpack;

import java.util.List;

/**
 * The {@link BuildPlan} as the JSON object {@code ferry detect} prints (and a build keeps as {@code .ferry/plan.json}):
 * the plan's fields, with an absent value as {@code null}.
 */
public record PlanJson(
        String buildpack,
        String configDir,
        List<String> files,
        String python,
        String r,
        String rSnapshot,
        String julia,
        String condaFile,
        String serverRequirements,
        List<String> packages,
        List<String> aptPackages,
        String postBuild,
        String start,
        boolean installPackage,
        String s2iBuilder,
        List<String> warnings) {

    public static PlanJson of(BuildPlan plan) {
        return new PlanJson(
                plan.buildpack().toString(),
                plan.configDir(),
                plan.files(),
                plan.python().orElse(null),
                plan.r().orElse(null),
                plan.rSnapshot().orElse(null),
                plan.julia().orElse(null),
                plan.condaFile().orElse(null),
                plan.serverRequirements().orElse(null),
                plan.packages(),
                plan.aptPackages(),
                plan.postBuild().orElse(null),
                plan.start().orElse(null),
                plan.installPackage(),
                plan.s2iBuilder().orElse(null),
                plan.warnings());
    }
}
