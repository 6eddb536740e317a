package dev.ferry.repo;

import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where research archives are reached ({@code ferry.archives.*}). Their records are fetched under the same guard and
 * limits as git repositories ({@code ferry.repo.allowed-schemes}, {@code allow-private-addresses},
 * {@code max-fetch-size}, {@code max-fetch-time}, {@code max-checkout-size}, {@code max-checkout-files}), and their specs
 * obey {@code ferry.repo.banned-specs}, {@code allowed-specs} and {@code spec-config} like every other provider's.
 *
 * @param doiResolver where DOIs are resolved to the record they name (every DOI launch starts with a redirect from it)
 * @param zenodoHosts   the Zenodo installations whose records the {@code zenodo} provider launches: a DOI must lead to a
 *                      record on one of them, and a record URL must name one of them
 * @param figshareHosts the Figshare installations whose articles the {@code figshare} provider launches (a DOI must
 *                      lead to an article page on one of them)
 * @param figshareApi   the REST API of those installations, asked for an article's versions and files
 * @param dataverseHosts the Dataverse installations whose datasets the {@code dataverse} provider launches (their
 *                      URLs; the host counts); empty: the list repo2docker ships ({@code dataverse-installations.txt})
 * @param hydroshareHosts the HydroShare installations whose resources the {@code hydroshare} provider launches (a bare
 *                      resource id is looked up on the first)
 */
@ConfigurationProperties("ferry.archives")
public record ArchiveProperties(
        @DefaultValue("https://doi.org") String doiResolver,
        @DefaultValue("https://zenodo.org") List<String> zenodoHosts,
        @DefaultValue("https://figshare.com") List<String> figshareHosts,
        @DefaultValue("https://api.figshare.com/v2") String figshareApi,
        @DefaultValue({}) List<String> dataverseHosts,
        @DefaultValue("https://www.hydroshare.org") List<String> hydroshareHosts) {

    /** The Dataverse installations in effect: the operator's list, or the one shipped. */
    public List<String> dataverseInstallations() {
        return dataverseHosts.isEmpty() ? DataverseRepoProvider.shippedInstallations() : dataverseHosts;
    }
}
