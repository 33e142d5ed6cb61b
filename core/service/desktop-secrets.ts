/**
 * What the desktop app needs of the engine's secret handling. Its engine host tells the engine how
 * to read a `keychain:NAME` reference and where to keep a secret set from the console (both by
 * asking the app's main process, which holds the OS keychain); main finds the home folder and the
 * keychain files the same way as the CLI. Without these hooks, as in the CLI, a `keychain:`
 * reference is a SECRET_IN_KEYCHAIN error and secrets set from the console are 0600 files.
 */
export { keychainFilePath, resolveHome, setKeychainResolver } from '../config/config-store.js';
export { setSecretStore } from '../config/secret-files.js';
