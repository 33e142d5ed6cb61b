import type { FileKind } from '../../core/domain/files.js';

/** Short names of file kinds for the dense table (the full kind is in the title and the filter). */
export const KIND_LABELS: Record<FileKind, string> = {
  'weekly-package': 'package',
  'email-opt-in-package': 'opt-in package',
  'weekly-table': 'table',
  'course-structure': 'structure',
  forum: 'forum',
  olx: 'OLX export',
  'email-opt-in': 'opt-in',
  'event-log': 'event log',
  'export-failed': 'failed export',
  unknown: 'unknown',
};
