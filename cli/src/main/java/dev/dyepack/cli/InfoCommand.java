package dev.dyepack.cli;

import dev.dyepack.Backend;
import dev.dyepack.CudaStatus;
import dev.dyepack.DeviceInfo;
import dev.dyepack.Engine;
import dev.dyepack.manifest.Json;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code dyepack info}: version, CUDA build, the backend that would be used and why, devices. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the version, the GPU code compiled in, the backend that would be used and why, "
                + "and each CUDA device (or why there is none).")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        String version = Engine.version();
        CudaStatus cuda = CudaStatus.query();
        Backend backend;
        String reason;
        try (Engine engine = Engine.open(Backend.AUTO)) {
            backend = engine.backend();
            reason = engine.reason();
        }
        if (json) {
            StringBuilder b = new StringBuilder();
            b.append("{\n");
            b.append("  \"version\": ").append(Json.quote(version)).append(",\n");
            b.append("  \"cuda_compiled\": ").append(cuda.compiled()).append(",\n");
            b.append("  \"cuda_architectures\": ").append(Json.quote(cuda.architectures())).append(",\n");
            b.append("  \"cuda_state\": ").append(Json.quote(cuda.state().name().toLowerCase(Locale.ROOT)))
                    .append(",\n");
            b.append("  \"cuda_reason\": ").append(Json.quote(cuda.reason())).append(",\n");
            b.append("  \"backend\": ").append(Json.quote(backend.name().toLowerCase(Locale.ROOT))).append(",\n");
            b.append("  \"backend_reason\": ").append(Json.quote(reason)).append(",\n");
            b.append("  \"devices\": [");
            for (int i = 0; i < cuda.devices().size(); i++) {
                DeviceInfo d = cuda.devices().get(i);
                b.append(i == 0 ? "\n" : ",\n").append("    {\"index\": ").append(d.index())
                        .append(", \"name\": ").append(Json.quote(d.name()))
                        .append(", \"memory_bytes\": ").append(d.totalMemory())
                        .append(", \"compute_capability\": ").append(Json.quote(d.major() + "." + d.minor()))
                        .append(", \"multiprocessors\": ").append(d.multiprocessors())
                        .append(", \"supported\": ").append(d.supported()).append('}');
            }
            b.append(cuda.devices().isEmpty() ? "]\n" : "\n  ]\n").append("}");
            out.println(b);
        } else {
            out.println("dyepack " + version);
            out.println("CUDA kernels: " + (cuda.compiled() ? "compiled for " + cuda.architectures() : "not compiled"));
            out.println("CUDA: " + cuda.state().name().toLowerCase(Locale.ROOT).replace('_', ' ') + " - " + cuda.reason());
            out.println("backend: " + backend.name().toLowerCase(Locale.ROOT) + " - " + reason);
            if (cuda.devices().isEmpty()) {
                out.println("devices: none");
            }
            for (DeviceInfo d : cuda.devices()) {
                out.printf(Locale.ROOT, "device %d: %s, %s, %.1f GiB, %d SMs%s%n", d.index(), d.name(),
                        d.architecture(), d.totalMemory() / (double) (1L << 30), d.multiprocessors(),
                        d.supported() ? "" : " (not supported by this build)");
            }
        }
        out.flush();
        return ExitCodes.OK;
    }
}
