export * from './inventory.js';
export * from './settings.js';
export * from './calls.js';
