package dev.dyepack.spark;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.PreparedTrigger;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The engines of one executor JVM: opened lazily, once per device, and reused by every task and
 * partition the executor runs, with the triggers prepared on them (patterns, masks and other operands
 * computed and uploaded once per executor, not per partition). A task that Spark's resource scheduling
 * gave a GPU ({@code spark.executor.resource.gpu.amount}, {@code spark.task.resource.gpu.amount}) uses a
 * CUDA engine on that GPU's address; every other task the CPU engine. Engines live until the JVM exits.
 *
 * <p>Thread-safe: tasks run on several threads of an executor; the engine serialises its own calls, and
 * each prepared trigger is applied under its own lock (a prepared trigger is not thread-safe).
 */
final class ExecutorEngine {
    private static final Map<String, Engine> ENGINES = new HashMap<>();
    private static final Map<String, PreparedTrigger> PREPARED = new HashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorEngine::closeAll, "dyepack-engines"));
    }

    private ExecutorEngine() {
    }

    /**
     * @return the engine for the current task: CUDA on the GPU Spark assigned to it, else the CPU (on the
     *         driver, outside a task, the CPU)
     */
    static synchronized Engine current() {
        String gpu = assignedGpu();
        String id = gpu == null ? "cpu" : "cuda:" + gpu;
        Engine e = ENGINES.get(id);
        if (e == null) {
            e = gpu == null ? Engine.open(Backend.CPU) : Engine.open(Backend.CUDA, Integer.parseInt(gpu.trim()));
            ENGINES.put(id, e);
        }
        return e;
    }

    /** @return the address of the first GPU Spark assigned to the running task, or null */
    private static String assignedGpu() {
        TaskContext task = TaskContext.get();
        if (task == null) {
            return null;
        }
        ResourceInformation gpu = task.resourcesJMap().get("gpu");
        return gpu == null || gpu.addresses().length == 0 ? null : gpu.addresses()[0];
    }

    /**
     * Stamps a batch with a trigger prepared once per executor, engine, key and geometry.
     *
     * @param engine      the engine
     * @param spec        the trigger
     * @param key         the key it is stamped under (the owner's or a derived negative key)
     * @param batch       the samples, all of which are stamped
     * @param firstSample the global index of the batch's first sample
     */
    static void stamp(Engine engine, TriggerSpec spec, OwnerKey key, Tensor batch, long firstSample) {
        String id = System.identityHashCode(engine) + "|" + spec + "|" + key.fingerprint() + "|" + batch.dtype() + "|"
                + batch.layout() + "|" + batch.c() + "x" + batch.h() + "x" + batch.w();
        PreparedTrigger prepared;
        synchronized (ExecutorEngine.class) {
            prepared = PREPARED.get(id);
            if (prepared == null) {
                prepared = spec.prepare(engine, Tensor.empty(batch.dtype(), batch.layout(), batch.c(), batch.h(),
                        batch.w()), new TriggerContext(key, 0));
                PREPARED.put(id, prepared);
            }
        }
        synchronized (prepared) {
            prepared.apply(batch, null, firstSample);
        }
    }

    /** @return how many triggers this JVM has prepared (once per engine, trigger, key and geometry) */
    static synchronized int preparedCount() {
        return PREPARED.size();
    }

    private static synchronized void closeAll() {
        PREPARED.values().forEach(PreparedTrigger::close);
        PREPARED.clear();
        ENGINES.values().forEach(Engine::close);
        ENGINES.clear();
    }
}
