/**
 * Who started a run: the operating-system account of the process that ran it, beside its origin
 * (cli, console, scheduler, desktop), so that the audit log names a person for every run.
 */
export const name = '0005-run-user';

export const sql = `
ALTER TABLE runs ADD COLUMN os_user TEXT;            -- the account running the process; NULL for runs recorded before
`;
