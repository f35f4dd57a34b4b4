package dev.dyepack.cli;

import dev.dyepack.Engine;
import dev.dyepack.job.BenchSuite;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dyepack bench}: DyePack's jobs beside their ceilings and peers, as a Markdown table. */
@Command(name = "bench", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Measure DyePack's jobs beside their ceilings and peers in the same run: apply and poison on a",
            "large .npy (cp + sync, NumPy), poison of an image folder (cp -r, PIL), every image trigger family",
            "(memcpy), the surrogate fit and boundary scoring (NumPy + BLAS). Prints a Markdown table; commands are",
            "timed as whole runs in a child JVM, library operations in this one (best of the repeats)."},
        footer = {"", "Examples:", "  dyepack bench --quick", "  dyepack bench --out docs/bench-today.md"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "Small sizes (400 large images, 1,000 PNGs, 10,000 x 784): about a "
            + "minute. Without it: 4,000 x 224x224x3 (575 MB), 10,000 PNGs, 60,000 x 784.")
    boolean quick;

    @Option(names = "--work", paramLabel = "DIR", description = "Where the suite writes its files (deleted at the "
            + "end; needs about 2.5 GB free for the full suite). Default: a new folder under the system's temp.")
    Path work;

    @Option(names = "--python", paramLabel = "EXE", description = "The Python with NumPy (and PIL) for the peers; "
            + "'none' to skip them.")
    String python = "python3";

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the table to this Markdown file.")
    Path out;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", description = "The engine for every job.")
    ApplyCommand.BackendOption backend = ApplyCommand.BackendOption.auto;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path dir = work != null ? work.resolve("dyepack-bench-" + ProcessHandle.current().pid())
                : Files.createTempDirectory("dyepack-bench-");
        String java = ProcessHandle.current().info().command().orElse("java");
        String classPath = System.getProperty("java.class.path");
        String backendName = backend.name();
        BenchSuite.CommandRunner child = args -> {
            List<String> command = new ArrayList<>(List.of(java));
            command.addAll(sharedArchiveOptions());
            command.addAll(jitOptions(args));
            command.addAll(List.of("-cp", classPath, Main.class.getName()));
            command.addAll(args);
            command.addAll(List.of("--backend", backendName));
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code;
            try {
                code = p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            if (code != 0) {
                throw new IOException("dyepack " + String.join(" ", args) + " failed (exit " + code + "): "
                        + output.strip());
            }
            return (System.nanoTime() - t0) / 1e9;
        };
        BenchSuite suite = new BenchSuite(dir, quick ? BenchSuite.Sizes.QUICK : BenchSuite.Sizes.FULL, child,
                "none".equals(python) ? null : python, line -> {
                    err.println("bench: " + line);
                    err.flush();
                });
        String table;
        try (Engine engine = backend.open(err)) {
            String machine = String.format(Locale.ROOT, "%d cores, %d GiB heap limit, %s backend, Java %s",
                    Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 30,
                    engine.backend().name().toLowerCase(Locale.ROOT), Runtime.version());
            table = BenchSuite.markdown(suite.run(engine), machine);
        }
        stdout.print(table);
        stdout.flush();
        if (out != null) {
            Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), ".bench-", ".md");
            Files.writeString(tmp, table);
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        }
        return ExitCodes.OK;
    }

    /**
     * The JIT options the launcher ({@code ./dyepack}) gives a command: {@code apply} and {@code poison} run
     * with the quick compiler alone (their heavy work is native, or short per-image loops for image folders;
     * the optimising compiler only takes CPU from them), so the bench times them as a user's runs are started.
     */
    private static List<String> jitOptions(List<String> args) {
        if (args.isEmpty() || !(args.get(0).equals("apply") || args.get(0).equals("poison"))) {
            return List.of();
        }
        return List.of("-XX:TieredStopAtLevel=1");
    }

    /**
     * The class-data-sharing options this JVM was started with (the launcher's archive), so that the
     * commands timed in child JVMs start as a user's do.
     */
    private static List<String> sharedArchiveOptions() {
        List<String> out = new ArrayList<>();
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-XX:SharedArchiveFile=") || a.startsWith("-Xshare:") || a.startsWith("-Xlog:cds")) {
                out.add(a);
            }
        }
        return out;
    }
}
