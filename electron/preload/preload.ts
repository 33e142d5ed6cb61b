/**
 * The preload of the console's window (sandboxed, context-isolated): exposes `window.pds`, one
 * function per console method and the run-event subscription, generated from the contract
 * (`createBridge`). Nothing else crosses: no `ipcRenderer`, no generic invoke, no Node object.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from '../../core/contract/desktop-bridge.js';

contextBridge.exposeInMainWorld('pds', createBridge(ipcRenderer));
