/**
 * The Spark module's command line ({@code dyepack spark poison}, {@code dyepack convert},
 * {@code dyepack spark bench}): parse, call the library, print; runnable locally through {@code ./dyepack}
 * and under {@code spark-submit} with the same arguments.
 */
package dev.dyepack.spark.cli;
