package dev.ferry.platform.kubernetes;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.PatchUtils;

import dev.ferry.FerryException;
import dev.ferry.repo.RepoSpec;
import dev.ferry.repo.ResolvedRepo;
import dev.ferry.workshop.WorkshopStore;

/**
 * Workshops kept in the cluster, one ConfigMap each ({@code ferry-workshop-<slug>}, plain keys an operator can read
 * with kubectl), so that every portal replica serves every workshop and a restarted replica finds them again. The
 * replica that holds the culler's Lease tends them.
 */
final class KubeWorkshops implements WorkshopStore {

    private static final Logger log = LoggerFactory.getLogger(KubeWorkshops.class);

    private final KubeApi api;
    private final KubeState state;
    private final LeaseLeadership leadership;
    /** ConfigMaps already reported as malformed (once each, not every second). */
    private final Set<String> malformed = ConcurrentHashMap.newKeySet();

    KubeWorkshops(KubeApi api, KubeState state, LeaseLeadership leadership) {
        this.api = api;
        this.state = state;
        this.leadership = leadership;
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public boolean tends() {
        return leadership.isLeader();
    }

    @Override
    public boolean add(Stored w) {
        try {
            api.core()
                    .createNamespacedConfigMap(
                            api.namespace,
                            new V1ConfigMap()
                                    .apiVersion("v1")
                                    .kind("ConfigMap")
                                    .metadata(new V1ObjectMeta()
                                            .name(name(w))
                                            .labels(Map.of(
                                                    Labels.MANAGED_BY,
                                                    Labels.FERRY,
                                                    Labels.COMPONENT,
                                                    Labels.WORKSHOP_COMPONENT,
                                                    Labels.WORKSHOP,
                                                    w.slug())))
                                    .data(data(w)))
                    .execute();
            return true;
        } catch (ApiException e) {
            if (e.getCode() == 409) {
                return false;
            }
            throw unavailable(e);
        }
    }

    @Override
    public void ended(Stored w) {
        String patch = "{\"data\":{\"ending-at\":\"" + w.endingAt() + "\"}}";
        try {
            PatchUtils.patch(
                    V1ConfigMap.class,
                    () -> api.core()
                            .patchNamespacedConfigMap(name(w), api.namespace, new V1Patch(patch))
                            .buildCall(null),
                    V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH,
                    api.client);
        } catch (ApiException e) {
            throw unavailable(e);
        }
    }

    @Override
    public void forget(Stored w) {
        try {
            api.core().deleteNamespacedConfigMap(name(w), api.namespace).execute();
            log.info("workshop {} ended long ago: its ConfigMap {} is deleted", w.slug(), name(w));
        } catch (ApiException e) {
            if (e.getCode() != 404) { // 404: another replica, or an operator, was first
                log.warn(
                        "workshop {}: its ConfigMap could not be deleted ({}); trying again later",
                        w.slug(),
                        KubeApi.describe(e));
            }
        }
    }

    private static String name(Stored w) {
        return "ferry-workshop-" + w.slug();
    }

    private static FerryException unavailable(ApiException e) {
        return new FerryException(
                503,
                "Ferry could not keep the workshop in the cluster: " + KubeApi.describe(e)
                        + ". Try again in a minute.");
    }

    @Override
    public Collection<Stored> load() {
        List<Stored> all = new ArrayList<>();
        for (V1ConfigMap map : state.workshops()) {
            try {
                all.add(stored(map.getData()));
            } catch (RuntimeException e) {
                if (malformed.add(map.getMetadata().getName())) {
                    log.warn(
                            "ConfigMap {} does not describe a workshop ({}); ignored",
                            map.getMetadata().getName(),
                            e.toString());
                }
            }
        }
        return all;
    }

    private static Map<String, String> data(Stored w) {
        ResolvedRepo repo = w.repo();
        RepoSpec spec = repo.spec();
        Map<String, String> d = new LinkedHashMap<>();
        d.put("slug", w.slug());
        d.put("name", w.name());
        d.put("provider", spec.provider());
        d.put("spec", spec.spec());
        d.put("shown-spec", spec.shownSpec());
        d.put("repo-url", spec.repoUrl());
        if (spec.ref() != null) {
            d.put("ref", spec.ref());
        }
        d.put("commit", repo.commit());
        d.put("resolved-spec", repo.resolvedSpec());
        if (repo.fetchRef() != null) {
            d.put("fetch-ref", repo.fetchRef());
        }
        d.put("ref-url", repo.refUrl());
        d.put("start", w.start().toString());
        d.put("end", w.end().toString());
        d.put("seats", Integer.toString(w.seats()));
        d.put("pool-size", Integer.toString(w.poolSize()));
        if (w.publicBase() != null) {
            d.put("public-base", w.publicBase());
        }
        if (w.endingAt() != null) {
            d.put("ending-at", w.endingAt().toString());
        }
        if (w.seatsPerAddress() > 0) {
            d.put("seats-per-address", Integer.toString(w.seatsPerAddress()));
        }
        return d;
    }

    private static Stored stored(Map<String, String> d) {
        RepoSpec spec = new RepoSpec(
                required(d, "provider"),
                required(d, "spec"),
                required(d, "repo-url"),
                d.get("ref"),
                d.getOrDefault("shown-spec", d.get("spec")));
        ResolvedRepo repo = new ResolvedRepo(
                spec,
                required(d, "commit"),
                required(d, "resolved-spec"),
                d.get("fetch-ref"),
                d.getOrDefault("ref-url", ""));
        String endingAt = d.get("ending-at");
        return new Stored(
                required(d, "slug"),
                required(d, "name"),
                repo,
                Instant.parse(required(d, "start")),
                Instant.parse(required(d, "end")),
                Integer.parseInt(required(d, "seats")),
                Integer.parseInt(required(d, "pool-size")),
                d.get("public-base"),
                endingAt == null ? null : Instant.parse(endingAt),
                Integer.parseInt(d.getOrDefault("seats-per-address", "0")));
    }

    private static String required(Map<String, String> d, String key) {
        String v = d == null ? null : d.get(key);
        if (v == null) {
            throw new IllegalArgumentException("no " + key);
        }
        return v;
    }
}
