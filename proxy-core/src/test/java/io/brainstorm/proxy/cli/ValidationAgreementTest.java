package io.brainstorm.proxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.pick;
import static org.quicktheories.generators.SourceDSL.lists;

import io.brainstorm.proxy.api.ApiError;
import io.brainstorm.proxy.auth.KeyKind;
import io.brainstorm.proxy.auth.KeyLimits;
import io.brainstorm.proxy.auth.Registry;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * The CLI refuses before sending exactly the tenant ids and key names the gateway's registry would
 * refuse, and accepts the rest: a command that passes the CLI's checks is not then refused by the
 * server for its id or name, and the CLI never refuses an id the server would take.
 */
class ValidationAgreementTest {
    private static final List<String> ALPHABET =
            List.of("a", "z", "0", "9", "-", "_", "A", ".", "/", " ", "\u00e9", "\t", "\u0000");

    @Test
    void cliAndRegistryAgreeOnTheseTenantIds() {
        for (String id : List.of(
                "acme",
                "a",
                "0",
                "a-b_c",
                "-acme",
                "_acme",
                "Acme",
                "a b",
                "a/b",
                "",
                "a".repeat(64),
                "a".repeat(65),
                "\u00e9t\u00e9")) {
            assertEquals(serverAcceptsTenant(id), cliAcceptsTenant(id), "tenant id '" + id + "'");
        }
    }

    @Test
    void cliAndRegistryAgreeOnAnyTenantId() {
        qt().withExamples(2_000)
                .forAll(strings(0, 70))
                .checkAssert(
                        id -> assertEquals(serverAcceptsTenant(id), cliAcceptsTenant(id), "tenant id '" + id + "'"));
    }

    @Test
    void cliAndRegistryAgreeOnAnyKeyName() {
        qt().withExamples(500)
                .forAll(strings(0, 110))
                .checkAssert(
                        name -> assertEquals(serverAcceptsName(name), cliAcceptsName(name), "key name '" + name + "'"));
    }

    private static Gen<String> strings(int min, int max) {
        return lists().of(pick(ALPHABET))
                .ofSizeBetween(min, max)
                .map(l -> l.stream().collect(Collectors.joining()));
    }

    private static boolean cliAcceptsTenant(String id) {
        try {
            AdminCommands.tenantId(id, "--tenant");
            return true;
        } catch (Main.UsageException e) {
            return false;
        }
    }

    private static boolean cliAcceptsName(String name) {
        try {
            AdminCommands.name(name);
            return true;
        } catch (Main.UsageException e) {
            return false;
        }
    }

    private static boolean serverAcceptsTenant(String id) {
        try {
            registry().createTenant(id, null);
            return true;
        } catch (ApiError e) {
            assertEquals(400, e.status().code(), e.getMessage());
            return false;
        }
    }

    private static boolean serverAcceptsName(String name) {
        try {
            registry()
                    .createKey(
                            Registry.DEFAULT_TENANT,
                            new Registry.KeySpec(name, KeyKind.API, KeyLimits.NONE, List.of(), null));
            return true;
        } catch (ApiError e) {
            assertEquals(400, e.status().code(), e.getMessage());
            return false;
        }
    }

    private static Registry registry() {
        return Registry.inMemory(
                new Registry.Bootstrap(List.of(), List.of(), Set.of(), null, null, null, null), InstantSource.system());
    }
}
