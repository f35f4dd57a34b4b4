package dev.dyepack.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dependency rule of docs/design.md, checked on the compiled classes of every module the CLI
 * ships (engine, data, manifest, jobs, verify, mark, serve, cli): each layer uses only the layers below it, the engine
 * uses nothing but the JDK's core and JavaCPP, and only the engine touches {@code internal}.
 */
class ArchitectureTest {
    private static final String ENGINE_PACKAGES_DESC = "the engine's packages";
    private static final String[] ENGINE = {"dev.dyepack", "dev.dyepack.internal..", "dev.dyepack.trigger..",
        "dev.dyepack.key..", "dev.dyepack.select..", "dev.dyepack.surrogate.."};
    private static JavaClasses all;

    @BeforeAll
    static void load() {
        all = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.dyepack");
    }

    @Test
    void everyModuleIsSeen() {
        for (String cls : new String[] {"dev.dyepack.Engine", "dev.dyepack.io.Npy", "dev.dyepack.manifest.Manifest",
            "dev.dyepack.job.PoisonJob", "dev.dyepack.verify.Verifier", "dev.dyepack.mark.AnswerMarker",
            "dev.dyepack.serve.MarkingProxy", "dev.dyepack.cli.Main"}) {
            if (!all.contain(cls)) {
                throw new AssertionError(cls + " was not imported; the rule below would check nothing");
            }
        }
    }

    @Test
    void engineUsesOnlyTheJdkCoreAndJavaCpp() {
        classes().that().resideInAnyPackage(ENGINE).should().onlyDependOnClassesThat()
                .resideInAnyPackage(concat(ENGINE, "java.lang..", "java.util..", "java.nio..", "java.io..",
                        "java.security..", "java.time..", "java.math..", "javax.crypto..", "org.bytedeco.javacpp.."))
                .as(ENGINE_PACKAGES_DESC + " depend only on the JDK's core (no AWT, ImageIO or formats) and JavaCPP")
                .check(all);
    }

    @Test
    void onlyTheEngineTouchesInternal() {
        noClasses().that().resideOutsideOfPackages(ENGINE).should().dependOnClassesThat()
                .resideInAPackage("dev.dyepack.internal..").check(all);
    }

    @Test
    void dataUsesOnlyTheEngine() {
        noClasses().that().resideInAnyPackage("dev.dyepack.io..", "dev.dyepack.image..").should()
                .dependOnClassesThat().resideInAnyPackage("dev.dyepack.manifest..", "dev.dyepack.job..",
                        "dev.dyepack.cli..", "dev.dyepack.experiment..")
                .check(all);
    }

    @Test
    void manifestUsesOnlyEngineAndData() {
        noClasses().that().resideInAPackage("dev.dyepack.manifest..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.dyepack.job..", "dev.dyepack.cli..", "dev.dyepack.experiment..")
                .check(all);
    }

    @Test
    void verificationSitsBesideTheJobs() {
        noClasses().that().resideInAPackage("dev.dyepack.verify..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.dyepack.job..", "dev.dyepack.cli..", "dev.dyepack.experiment..").check(all);
        noClasses().that().resideInAnyPackage("dev.dyepack.job..", "dev.dyepack.manifest..", "dev.dyepack.io..")
                .should().dependOnClassesThat().resideInAPackage("dev.dyepack.verify..").check(all);
    }

    @Test
    void markingBuildsOnVerificationAndNothingBelowUsesIt() {
        noClasses().that().resideInAPackage("dev.dyepack.mark..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.dyepack.job..", "dev.dyepack.cli..", "dev.dyepack.experiment..").check(all);
        noClasses().that().resideInAnyPackage("dev.dyepack.job..", "dev.dyepack.verify..", "dev.dyepack.manifest..",
                "dev.dyepack.io..").should().dependOnClassesThat().resideInAPackage("dev.dyepack.mark..").check(all);
    }

    @Test
    void onlyTheProxyCarriesTheHttpServer() {
        noClasses().that().resideOutsideOfPackages("dev.dyepack.serve..").should().dependOnClassesThat()
                .resideInAPackage("org.eclipse.jetty..").check(all);
        noClasses().that().resideOutsideOfPackages("dev.dyepack.serve..", "dev.dyepack.cli..").should()
                .dependOnClassesThat().resideInAPackage("dev.dyepack.serve..").check(all);
    }

    @Test
    void jobsDoNotUseTheCli() {
        noClasses().that().resideInAPackage("dev.dyepack.job..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.dyepack.cli..", "dev.dyepack.experiment..").check(all);
    }

    @Test
    void integrationsAreNeverDependenciesOfTheCore() {
        // ND4J/DL4J (java-bindings/nd4j, nd4j-cuda), the CUDA presets (java-bindings/cuda-presets) and Spark
        // (java-bindings/spark, with its own command line) sit beside the engine jar: nothing the CLI ships may
        // reach them.
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.dyepack.nd4j..", "dev.dyepack.cuda..",
                "org.nd4j..", "org.deeplearning4j..", "org.bytedeco.cuda..", "dev.dyepack.spark..",
                "org.apache.spark..", "scala..").check(all);
    }

    @Test
    void libraryHoldsNoCommandLineWords() {
        noClasses().that().resideOutsideOfPackage("dev.dyepack.cli..").should().dependOnClassesThat()
                .resideInAPackage("picocli..").check(all);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
