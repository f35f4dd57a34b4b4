/**
 * DyePack for ND4J's CUDA backend ({@code nd4j-cuda-11.6} 1.0.0-M2.1): arrays in device memory go to the
 * CUDA engine by device pointer, on ND4J's stream, with ND4J's host and device copies kept in sync
 * ({@link dev.dyepack.nd4j.cuda.Nd4jCudaEngine}). Never a dependency of the engine or the CLI.
 */
package dev.dyepack.nd4j.cuda;
