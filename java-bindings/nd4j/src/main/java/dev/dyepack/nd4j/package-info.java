/**
 * DyePack for ND4J and DL4J: engine tensors over {@code INDArray}s without a copy
 * ({@link dev.dyepack.nd4j.Nd4jTensors}), the engine's operations with ND4J arrays in and out
 * ({@link dev.dyepack.nd4j.Nd4jEngine}), and a {@code DataSetIterator} that poisons a training set on
 * the fly and writes a signed manifest ({@link dev.dyepack.nd4j.PoisoningDataSetIterator}).
 */
package dev.dyepack.nd4j;
