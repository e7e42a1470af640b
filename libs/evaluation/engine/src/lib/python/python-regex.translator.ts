/** The translator is shared with the write side, which validates REGEX conditions with it. */
export { compilePythonRegex, matchesPythonRegex } from '@flagline/python-compat';
