// The kinds of entity an auditor can follow through time, and where the admin API keeps each
// one's state and history.
import { path } from './api.js';

/**
 * @typedef {{ id: number, name?: string, label?: string }} Named
 * @typedef {{
 *   label: string,
 *   plural: string,
 *   list: (project: string) => string,
 *   read: (project: string, id: string, environment?: string) => string,
 *   history: (project: string, id: string, environment?: string) => string,
 *   name: (entity: Record<string, unknown>) => string,
 * }} EntityKind
 */

/**
 * A field of an entity (or of the event that created it) as its name, or '' when it has none.
 * @param {string} field
 * @returns {(entity: Record<string, unknown>) => string}
 */
const textField = (field) => (entity) => (typeof entity[field] === 'string' ? entity[field] : '');
const byName = textField('name');

/** @typedef {'feature' | 'segment' | 'environment' | 'tag' | 'identity'} KindName */

/** @type {Record<KindName, EntityKind>} */
export const ENTITY_KINDS = {
  feature: {
    label: 'Feature',
    plural: 'Features',
    list: (project) => path('projects', project, 'features'),
    read: (project, id) => path('projects', project, 'features', id),
    history: (project, id) => path('projects', project, 'features', id, 'history'),
    name: byName,
  },
  segment: {
    label: 'Segment',
    plural: 'Segments',
    list: (project) => path('projects', project, 'segments'),
    read: (project, id) => path('projects', project, 'segments', id),
    history: (project, id) => path('projects', project, 'segments', id, 'history'),
    name: byName,
  },
  environment: {
    label: 'Environment',
    plural: 'Environments',
    list: (project) => path('projects', project, 'environments'),
    read: (_project, id) => path('environments', id),
    history: (_project, id) => path('environments', id, 'history'),
    name: byName,
  },
  tag: {
    label: 'Tag',
    plural: 'Tags',
    list: (project) => path('projects', project, 'tags'),
    read: (project, id) => path('projects', project, 'tags', id),
    history: (project, id) => path('projects', project, 'tags', id, 'history'),
    name: textField('label'),
  },
  identity: {
    label: 'Identity',
    plural: 'Identities',
    list: (_project) => '',
    read: (_project, id, environment = '') => path('environments', environment, 'identities', id),
    history: (_project, id, environment = '') => path('environments', environment, 'identities', id, 'history'),
    name: textField('identifier'),
  },
};

/**
 * The kind an address names, or undefined for a name that is none.
 * @param {string} name
 * @returns {EntityKind | undefined}
 */
export function entityKindNamed(name) {
  return Object.hasOwn(ENTITY_KINDS, name) ? ENTITY_KINDS[/** @type {KindName} */ (name)] : undefined;
}
