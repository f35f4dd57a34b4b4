/**
 * DyePack on Apache Spark: poisoning a DataFrame of samples with, sample for sample, the bytes, labels and
 * manifest indices of {@code dyepack poison} ({@link dev.dyepack.spark.SparkPoisoner},
 * {@link dev.dyepack.spark.SparkPoisonJob}), conversion between DyePack's formats and Parquet
 * ({@link dev.dyepack.spark.ParquetConvert}), and verification with DataFrames
 * ({@link dev.dyepack.spark.SparkVerification}). Spark is provided by the cluster; see docs/spark.md.
 */
package dev.dyepack.spark;
