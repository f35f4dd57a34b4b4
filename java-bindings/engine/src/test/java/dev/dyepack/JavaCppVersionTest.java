package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The JavaCPP version the engine reports, and its warning when it runs on an older one. */
class JavaCppVersionTest {
    @Test
    void theBuiltWithVersionIsTheBuildsAndTheRuntimeIsReported() throws IOException {
        // The constant must follow the build: read javacpp.version from the parent pom.
        String pom = Files.readString(Path.of("../../pom.xml"));
        Matcher m = Pattern.compile("<javacpp.version>([^<]+)</javacpp.version>").matcher(pom);
        assertTrue(m.find());
        assertEquals(m.group(1), JavaCppVersion.BUILT_WITH);
        // The test class path holds the build's JavaCPP.
        assertEquals(m.group(1), Engine.javacppVersion());
    }

    @Test
    void versionsCompareNumericallyPartByPart() {
        assertTrue(JavaCppVersion.isOlder("1.5.7", "1.5.14"));
        assertFalse(JavaCppVersion.isOlder("1.5.14", "1.5.7"));
        assertFalse(JavaCppVersion.isOlder("1.5.14", "1.5.14"));
        assertTrue(JavaCppVersion.isOlder("1.5", "1.5.1"));
        assertFalse(JavaCppVersion.isOlder("unknown", "1.5.14"));
    }

    @Test
    void noWarningOnTheBuildsOwnVersion() {
        List<String> logged = new ArrayList<>();
        assertFalse(JavaCppVersion.warnOnceIfOlder(recorder(logged)));
        assertTrue(logged.isEmpty());
    }

    @Test
    void anOlderJavaCppIsWarnedAboutOnceThroughTheLogger() {
        List<String> logged = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean flag = new java.util.concurrent.atomic.AtomicBoolean();
        assertTrue(JavaCppVersion.warnOnceIfOlder(recorder(logged), "1.5.7", flag));
        assertFalse(JavaCppVersion.warnOnceIfOlder(recorder(logged), "1.5.7", flag));
        assertEquals(1, logged.size());
        assertTrue(logged.get(0).contains("1.5.7") && logged.get(0).contains(JavaCppVersion.BUILT_WITH), logged.get(0));
    }

    private static System.Logger recorder(List<String> out) {
        return new System.Logger() {
            @Override
            public String getName() {
                return "test";
            }

            @Override
            public boolean isLoggable(Level level) {
                return true;
            }

            @Override
            public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
                out.add(msg);
            }

            @Override
            public void log(Level level, ResourceBundle bundle, String format, Object... params) {
                out.add(format);
            }

            @Override
            public void log(Level level, Supplier<String> msgSupplier) {
                out.add(msgSupplier.get());
            }
        };
    }
}
