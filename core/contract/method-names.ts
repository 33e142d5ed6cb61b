/**
 * The names of the console's methods, in the contract's order, as a plain list: what the desktop
 * app's preload needs to build `window.pds` without bundling the contract's schemas (zod) into the
 * window. `methods.ts` checks at compile time that this list and `CONSOLE_METHODS` name the same
 * methods, and a unit test checks the order.
 *
 * Pure: no import at all.
 */
export const CONSOLE_METHOD_NAMES = [
  'listEnvironments',
  'getEnvironment',
  'validateEnvironment',
  'createEnvironment',
  'updateEnvironment',
  'deleteEnvironment',
  'setSecret',
  'testSource',
  'testKey',
  'testTargets',
  'importKey',
  'listKeys',
  'removeKey',
  'planRun',
  'startRun',
  'cancelRun',
  'listActiveRuns',
  'listRuns',
  'getReport',
  'getFileHistory',
  'getRejectedLines',
  'getStatus',
  'getDataSummary',
  'listSchedules',
  'saveSchedule',
  'setScheduleEnabled',
  'nextRuns',
  'listPrograms',
  'queryLearner',
  'queryRoster',
  'queryActivity',
  'queryProgram',
  'exportLearners',
  'forgetLearner',
  'getPrivacyInventory',
  'listAudit',
] as const;

/** A console method's name. */
export type ConsoleMethodName = (typeof CONSOLE_METHOD_NAMES)[number];
