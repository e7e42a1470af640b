/**
 * Strict SemVer 2.0 parsing and precedence as python-semver's `Version.parse` / `Version.compare`
 * do it. Loose forms that other parsers accept (`v1.2.3`, `=1.2.3`, `1.2`, leading zeros) are
 * rejected. Python's `\d` also matches non-ASCII decimal digits, and its `$` also matches before
 * a final newline; both are reproduced.
 */
import { pyInt } from './python-number';

/** A parsed semantic version. Numeric parts are kept as canonical decimal strings (any size). */
export interface SemVer {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  readonly prerelease: string | null;
  readonly build: string | null;
}

const NUMERIC = '(?:0|[1-9]\\p{Nd}*)';
const PRERELEASE_PART = '(?:0|[1-9]\\p{Nd}*|\\p{Nd}*[a-zA-Z-][0-9a-zA-Z-]*)';
const BUILD_PART = '[0-9a-zA-Z-]+';
const SEMVER = new RegExp(
  `^(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})` +
    `(?:-(${PRERELEASE_PART}(?:\\.${PRERELEASE_PART})*))?` +
    `(?:\\+(${BUILD_PART}(?:\\.${BUILD_PART})*))?\\n?$`,
  'u',
);
const ASCII_NUMERIC = /^[0-9]+$/;

function canonicalNumber(text: string): string {
  if (ASCII_NUMERIC.test(text)) return text;
  const value = pyInt(text);
  return value === undefined ? text : value.toString();
}

/** python-semver `Version.parse`; `undefined` where it raises `ValueError`. */
export function parseSemVer(text: string): SemVer | undefined {
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  return {
    major: canonicalNumber(match[1] ?? '0'),
    minor: canonicalNumber(match[2] ?? '0'),
    patch: canonicalNumber(match[3] ?? '0'),
    prerelease: match[4] ?? null,
    build: match[5] ?? null,
  };
}

function compareNumericStrings(left: string, right: string): number {
  if (left.length !== right.length) return left.length < right.length ? -1 : 1;
  return left < right ? -1 : left > right ? 1 : 0;
}

function comparePrereleaseParts(left: string, right: string): number {
  const leftNumeric = ASCII_NUMERIC.test(left);
  const rightNumeric = ASCII_NUMERIC.test(right);
  if (leftNumeric && rightNumeric) return compareNumericStrings(left, right);
  if (leftNumeric) return -1;
  if (rightNumeric) return 1;
  return left < right ? -1 : left > right ? 1 : 0;
}

function comparePrereleases(left: string, right: string): number {
  const leftParts = left.split('.');
  const rightParts = right.split('.');
  const shared = Math.min(leftParts.length, rightParts.length);
  for (let index = 0; index < shared; index += 1) {
    const result = comparePrereleaseParts(leftParts[index] ?? '', rightParts[index] ?? '');
    if (result !== 0) return result;
  }
  // python-semver compares the lengths of the whole prerelease strings at this point.
  return left.length === right.length ? 0 : left.length < right.length ? -1 : 1;
}

/** python-semver `Version.compare`: precedence, build metadata ignored. Returns -1, 0 or 1. */
export function compareSemVer(left: SemVer, right: SemVer): number {
  const core =
    compareNumericStrings(left.major, right.major) ||
    compareNumericStrings(left.minor, right.minor) ||
    compareNumericStrings(left.patch, right.patch);
  if (core !== 0) return core;
  const result = comparePrereleases(left.prerelease ?? '', right.prerelease ?? '');
  if (result === 0) return 0;
  if (!left.prerelease) return 1;
  if (!right.prerelease) return -1;
  return result;
}
