export * from './inventory.js';
export * from './settings.js';
export * from './calls.js';
export * from './agent-pauses.js';
export * from './survey-results.js';
