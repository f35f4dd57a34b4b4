package dev.dyepack.nd4j;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The integration's place in the dependency rule of docs/design.md: it uses the library (engine, data,
 * manifest, jobs, verify) and never the CLI, its internals, or benchmarks.
 */
class Nd4jLayeringTest {
    @Test
    void theIntegrationUsesTheLibraryOnly() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.dyepack.nd4j");
        if (!classes.contain("dev.dyepack.nd4j.PoisoningDataSetIterator")) {
            throw new AssertionError("the module's classes were not imported; the rule would check nothing");
        }
        noClasses().that().resideInAPackage("dev.dyepack.nd4j..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.dyepack.cli..", "dev.dyepack.experiment..", "dev.dyepack.internal..",
                        "picocli..")
                .check(classes);
    }
}
