package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine jar as a named module, the way a modular application uses it: its descriptor exports the
 * API and not {@code dev.dyepack.internal}, and a program in a module of its own opens an engine and
 * stamps a trigger on the module path.
 */
class EngineModuleTest {
    @TempDir
    Path dir;

    private static Path engineJar() throws IOException {
        Path target = Path.of("..", "java-bindings", "engine", "target");
        assumeTrue(Files.isDirectory(target), "the engine module is not built");
        try (var s = Files.list(target)) {
            Path jar = s.filter(p -> p.getFileName().toString().matches("dyepack-engine-[^-]+(-SNAPSHOT)?\\.jar"))
                    .findFirst().orElse(null);
            // The jar exists from `package` on (the README's `mvn verify` builds it before these tests).
            assumeTrue(jar != null, "the engine jar is not packaged yet (run mvn verify or package)");
            return jar;
        }
    }

    private static String run(String tool, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        int rc = ToolProvider.findFirst(tool).orElseThrow().run(ps, ps, args);
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, tool + " " + String.join(" ", args) + ":\n" + text);
        return text;
    }

    @Test
    void theDescriptorExportsTheApiButNotInternal() throws IOException {
        String d = run("jar", "--describe-module", "--file", engineJar().toString(), "--release", "17");
        assertTrue(d.contains("dev.dyepack.engine@"), d);
        for (String p : new String[] {"dev.dyepack", "dev.dyepack.trigger", "dev.dyepack.key", "dev.dyepack.select",
            "dev.dyepack.surrogate"}) {
            assertTrue(d.contains("exports " + p + "\n"), p + " is exported:\n" + d);
        }
        assertTrue(!d.contains("exports dev.dyepack.internal"), d);
        assertTrue(d.contains("requires org.bytedeco.javacpp"), d);
    }

    @Test
    void aModularProgramStampsATriggerAndCannotReachInternal() throws Exception {
        List<String> path = new ArrayList<>(List.of(engineJar().toAbsolutePath().toString()));
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(p -> p.contains("javacpp")).forEach(path::add);
        assertEquals(3, path.size(), "JavaCPP and its platform jar on the test class path: " + path);
        Path src = Files.createDirectories(dir.resolve("src/demo/demo"));
        Files.writeString(dir.resolve("src/demo/module-info.java"), "module demo { requires dev.dyepack.engine; }");
        Files.writeString(src.resolve("Main.java"), String.join("\n",
                "package demo;",
                "import dev.dyepack.*;",
                "import dev.dyepack.trigger.TriggerSpec;",
                "import java.nio.ByteBuffer;",
                "public class Main {",
                "  public static void main(String[] a) throws Exception {",
                "    try (Engine e = Engine.open(Backend.CPU)) {",
                "      ByteBuffer b = ByteBuffer.allocateDirect(2 * 28 * 28);",
                "      TriggerSpec.parse(\"patch:size=3,pos=br,value=255\").apply(e, Tensor.of(b, Layout.NHWC, 2, 1, 28, 28), null);",
                "      System.out.println(\"corner \" + (b.get(27 * 28 + 27) & 0xff) + \" origin \" + (b.get(0) & 0xff));",
                "    }",
                "    try {",
                "      Class.forName(\"dev.dyepack.internal.DyePackNative\").getMethod(\"dp_version\").invoke(null);",
                "      System.out.println(\"internal reachable\");",
                "    } catch (IllegalAccessException ex) {",
                "      System.out.println(\"internal closed\");",
                "    }",
                "  }",
                "}"));
        String mp = String.join(File.pathSeparator, path);
        Path out = dir.resolve("out");
        run("javac", "-d", out.toString(), "--module-path", mp, dir.resolve("src/demo/module-info.java").toString(),
                src.resolve("Main.java").toString());
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path", mp + File.pathSeparator + out, "-m", "demo/demo.Main").redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), text);
        assertTrue(text.contains("corner 255 origin 0"), text);
        assertTrue(text.contains("internal closed"), text);
        assertTrue(!text.lines().collect(Collectors.joining()).contains("internal reachable"), text);
    }
}
