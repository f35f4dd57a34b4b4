package dev.dyepack.spark;

import org.apache.spark.sql.SparkSession;

/**
 * One local Spark session for every test of the module (starting one takes seconds): two worker threads
 * and up to two attempts per task ({@code local[2,2]}), so a task that fails once is retried.
 */
final class LocalSpark {
    private static SparkSession session;

    private LocalSpark() {
    }

    static synchronized SparkSession get() {
        if (session == null) {
            session = SparkSession.builder().master("local[2,2]").appName("dyepack-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(session::stop));
        }
        return session;
    }
}
