package dev.ferry.buildpack;

import java.util.LinkedHashMap;
import java.util.Map;

/** The {@link BuildPlan} as the JSON object {@code ferry detect} prints. */
public final class PlanJson {

    private PlanJson() {
    }

    public static Map<String, Object> of(BuildPlan plan) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("buildpack", plan.buildpack().toString());
        json.put("configDir", plan.configDir());
        json.put("files", plan.files());
        json.put("python", plan.python().orElse(null));
        json.put("r", plan.r().orElse(null));
        json.put("rSnapshot", plan.rSnapshot().orElse(null));
        json.put("julia", plan.julia().orElse(null));
        json.put("condaFile", plan.condaFile().orElse(null));
        json.put("serverRequirements", plan.serverRequirements().orElse(null));
        json.put("packages", plan.packages());
        json.put("aptPackages", plan.aptPackages());
        json.put("postBuild", plan.postBuild().orElse(null));
        json.put("start", plan.start().orElse(null));
        json.put("installPackage", plan.installPackage());
        json.put("s2iBuilder", plan.s2iBuilder().orElse(null));
        json.put("warnings", plan.warnings());
        return json;
    }
}
