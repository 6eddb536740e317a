package dev.ferry.repo;

/**
 * How a provider is presented to users and clients: BinderHub's {@code display_config}, served as a list by
 * {@code /api/repoproviders} and used by the home page and OpenGraph titles.
 *
 * @param id            the provider id in links ({@code gh})
 * @param displayName   its name ("GitHub")
 * @param repoLabel     the label of the repository field
 * @param placeholder   an example of the repository part
 * @param urlEncode     whether the repository part is URL-encoded in links ({@code gl}, {@code git})
 * @param refEnabled    whether links carry a ref
 * @param refDefault    the ref used when none is given
 * @param validateRegex what a whole spec looks like (for clients that check before launching)
 * @param detectRegex   recognises a pasted URL of this provider, with a named group {@code repo}; null for none
 */
public record ProviderDisplay(
        String id,
        String displayName,
        String repoLabel,
        String placeholder,
        boolean urlEncode,
        boolean refEnabled,
        String refDefault,
        String validateRegex,
        String detectRegex) {

    /**
     * A research archive's provider whose records are named by DOIs: no ref, the DOI as it is (not URL-encoded).
     *
     * @param archive    the archive's name ("Zenodo")
     * @param exampleDoi a DOI of one of its records
     */
    static ProviderDisplay doi(String id, String archive, String exampleDoi, String detectRegex) {
        return new ProviderDisplay(
                id,
                archive + " DOI",
                archive + " DOI (" + exampleDoi + ")",
                "example: " + exampleDoi,
                false,
                false,
                "",
                "10\\.[0-9]{4,9}/.+",
                detectRegex);
    }
}
