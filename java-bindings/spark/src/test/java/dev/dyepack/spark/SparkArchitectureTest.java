package dev.dyepack.spark;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Spark module's place in the dependency rule (docs/design.md): it sits beside the CLI, above jobs and
 * verify; the library below it never sees Spark, and only its own command-line package uses picocli.
 */
class SparkArchitectureTest {
    private static JavaClasses all;

    @BeforeAll
    static void load() {
        all = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.dyepack");
        if (!all.contain("dev.dyepack.spark.SparkPoisoner") || !all.contain("dev.dyepack.job.Poisoner")) {
            throw new AssertionError("the module's classes were not imported; the rules below would check nothing");
        }
    }

    @Test
    void nothingBelowUsesSpark() {
        noClasses().that().resideOutsideOfPackage("dev.dyepack.spark..").should().dependOnClassesThat()
                .resideInAnyPackage("org.apache.spark..", "scala..", "dev.dyepack.spark..").check(all);
    }

    @Test
    void onlyTheModulesCommandLineUsesPicocli() {
        noClasses().that().resideInAPackage("dev.dyepack.spark").should().dependOnClassesThat()
                .resideInAPackage("picocli..").check(all);
    }

    @Test
    void theModuleUsesThePublicLibraryOnly() {
        noClasses().that().resideInAPackage("dev.dyepack.spark..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.dyepack.internal..", "dev.dyepack.cli..", "dev.dyepack.mark..",
                        "dev.dyepack.serve..", "dev.dyepack.nd4j..").check(all);
    }
}
