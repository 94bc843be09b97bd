import { randomInt } from 'node:crypto';

const ADJECTIVES = ['amber', 'bold', 'brave', 'bright', 'calm', 'clever', 'crisp', 'daring', 'eager', 'fierce', 'gentle', 'glowing', 'golden', 'grand', 'humble', 'keen', 'lively', 'lucid', 'mellow', 'nimble', 'quiet', 'rapid', 'serene', 'sharp', 'silent', 'smooth', 'steady', 'swift', 'tidy', 'vivid', 'warm', 'wise'];
const NOUNS = ['anvil', 'badger', 'bellows', 'brick', 'cinder', 'clay', 'comet', 'crucible', 'ember', 'falcon', 'flame', 'forge', 'glaze', 'hawk', 'heron', 'ingot', 'lark', 'lynx', 'otter', 'owl', 'pottery', 'quartz', 'raven', 'slate', 'spark', 'stone', 'swan', 'tile', 'urn', 'vase', 'wolf', 'wren'];

/** A readable random run name such as `swift-ember-417`, as MLflow gives unnamed runs. */
export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
