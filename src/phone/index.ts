export { parseDialedNumber, MAX_DIALED_DIGITS, MAX_DIALED_INPUT_CHARS } from './dialed-number.js';
export type { CountryCode, DialedRejection, ParsedDialed } from './dialed-number.js';
export { preloadGeocodeData } from './geocode-data.js';
export { createLocator, locationFromDescription, locationTiers, DEFAULT_LOCATOR_CACHE_SIZE } from './location.js';
export type { Locator, LocatorOptions, LocatorStats, NumberLocation } from './location.js';
export { formatForTrunk } from './trunk-format.js';
export type { TrunkNumberFormat, TrunkNumbering } from './trunk-format.js';
