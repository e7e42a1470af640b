export { explicitFloat, FloatNumber } from './lib/float-number';
export { floatJson, mayHoldFloat, parseJsonKeepingFloats, sameScalar, stringifyJsonKeepingFloats, valueText } from './lib/float-json';
export { compilePythonRegex, matchesPythonRegex } from './lib/python-regex.translator';
