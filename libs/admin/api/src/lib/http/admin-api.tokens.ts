/** Injection token of the `AdminApplication` the API drives. */
export const ADMIN_APPLICATION = Symbol('AdminApplication');
