/** Integral floats are shared with the write side, which stores traits written `5.0` as floats. */
export { explicitFloat, FloatNumber } from '@flagline/python-compat';
