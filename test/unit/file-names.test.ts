import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { KNOWN_WEEKLY_TABLES, ORA_TABLES, recognizeFileName } from '../../core/domain/file-names.js';

/**
 * The exporter's `FilenameMixin.get_filename_template` (edx-analytics-exporter `exporter/tasks.py`),
 * restated to build over-long names exactly as edX writes them.
 */
function exporterName(entity: string, task: string, env: string, ext: string): string {
  const maxName = 255;
  const fileName = `${entity}-${task}-${env}.${ext}`;
  if (fileName.length < maxName - 20) return fileName;
  const hashed = createHash('md5').update(env, 'utf8').digest('hex');
  const room = maxName - hashed.length - (ext.length + 20);
  const cut = `${entity}-${task}-${env.slice(0, room)}`.slice(0, room);
  return `${cut}-${hashed}.${ext}`;
}

describe('weekly package and opt-in package (§1.1)', () => {
  test('{org}-{date}.zip at the bucket root', () => {
    assert.deepEqual(recognizeFileName('uqx-2015-01-04.zip'), {
      kind: 'weekly-package',
      name: 'uqx-2015-01-04.zip',
      encrypted: false,
      org: 'uqx',
      date: '2015-01-04',
    });
  });
  test('the same name under email-opt-in/ is the opt-in package', () => {
    const f = recognizeFileName('email-opt-in/delftx-2018-12-09.zip');
    assert.equal(f.kind, 'email-opt-in-package');
    assert.equal(f.org, 'delftx');
    assert.equal(f.date, '2018-12-09');
  });
  test('hyphenated org', () => {
    const f = recognizeFileName('s3://course-data/my-org-2020-02-29.zip');
    assert.equal(f.kind, 'weekly-package');
    assert.equal(f.org, 'my-org');
  });
  test('an impossible date is not a package', () => {
    assert.equal(recognizeFileName('uqx-2015-02-30.zip').kind, 'unknown');
  });
});

describe('daily event logs (§1.1)', () => {
  test('edx site, encrypted, with the S3 path', () => {
    assert.deepEqual(recognizeFileName('mitx/edx/events/2014/mitx-edx-events-2014-10-14.log.gz.gpg'), {
      kind: 'event-log',
      name: 'mitx-edx-events-2014-10-14.log.gz.gpg',
      encrypted: true,
      org: 'mitx',
      site: 'edx',
      date: '2014-10-14',
    });
  });
  test('edge and prod sites', () => {
    assert.equal(recognizeFileName('harvardx-edge-events-2016-05-01.log.gz.gpg').site, 'edge');
    assert.equal(recognizeFileName('harvardx-prod-events-2016-05-01.log.gz').site, 'prod');
    assert.equal(recognizeFileName('harvardx-prod-events-2016-05-01.log.gz').encrypted, false);
  });
  test('a log already gunzipped by hand (.log, loaded with pds load)', () => {
    const f = recognizeFileName('/home/czar/mitx-edx-events-2014-10-14.log');
    assert.equal(f.kind, 'event-log');
    assert.equal(f.date, '2014-10-14');
    assert.equal(recognizeFileName('mitx-edx-events-2014-10-14.log.gpg').kind, 'event-log');
  });
  test('the early form without "events"', () => {
    const f = recognizeFileName('universityx-edge-2014-07-25.log.gz.gpg');
    assert.equal(f.kind, 'event-log');
    assert.equal(f.org, 'universityx');
    assert.equal(f.site, 'edge');
    assert.equal(f.date, '2014-07-25');
  });
});

describe('weekly members (§1.2, §1.3, §7.13)', () => {
  test('a table with prod-analytics, inside the package folder', () => {
    assert.deepEqual(recognizeFileName('delftx-2018-07-01/DelftX-EX101x-2T2018-auth_userprofile-prod-analytics.sql.gpg'), {
      kind: 'weekly-table',
      name: 'DelftX-EX101x-2T2018-auth_userprofile-prod-analytics.sql.gpg',
      encrypted: true,
      courseKey: 'DelftX-EX101x-2T2018',
      env: 'prod-analytics',
      site: 'edx',
      table: 'auth_userprofile',
      ora: false,
    });
  });
  test('hyphens and dots in course and run', () => {
    const f = recognizeFileName('MITx-6.00.1-x-1T2014-student_courseenrollment-prod-analytics.sql.gpg');
    assert.equal(f.courseKey, 'MITx-6.00.1-x-1T2014');
    assert.equal(f.table, 'student_courseenrollment');
    const g = recognizeFileName('MITx-6.00.1x-2T2017_2-courseware_studentmodule-prod-analytics.sql');
    assert.equal(g.courseKey, 'MITx-6.00.1x-2T2017_2');
    assert.equal(g.table, 'courseware_studentmodule');
    assert.equal(g.encrypted, false);
  });
  test('edge files: prod-edge-analytics and edge-analytics', () => {
    const f = recognizeFileName('UQx-THINK101x-1T2014-auth_user-prod-edge-analytics.sql.gpg');
    assert.equal(f.env, 'prod-edge-analytics');
    assert.equal(f.site, 'edge');
    assert.equal(f.table, 'auth_user');
    const g = recognizeFileName('UQx-THINK101x-1T2014-auth_user-edge-analytics.sql.gpg');
    assert.equal(g.env, 'edge-analytics');
    assert.equal(g.site, 'edge');
  });
  test('prod-edx-replica', () => {
    const f = recognizeFileName('MITx-6.002x-2012_Fall-user_id_map-prod-edx-replica.sql');
    assert.equal(f.env, 'prod-edx-replica');
    assert.equal(f.table, 'user_id_map');
    assert.equal(f.courseKey, 'MITx-6.002x-2012_Fall');
  });
  test('an unfamiliar env after a known table', () => {
    const f = recognizeFileName('edX-DemoX-Demo_2014-auth_user-stage-analytics.sql');
    assert.equal(f.kind, 'weekly-table');
    assert.equal(f.env, 'stage-analytics');
    assert.equal(f.site, undefined);
  });
  test('teams and teams_membership keep the exporter task names; doc names are aliased', () => {
    assert.equal(recognizeFileName('edX-DemoX-Demo_2014-teams-prod-analytics.sql.gpg').table, 'teams');
    assert.equal(recognizeFileName('edX-DemoX-Demo_2014-teams_membership-prod-analytics.sql.gpg').table, 'teams_membership');
    assert.equal(recognizeFileName('edX-DemoX-Demo_2014-teams_courseteam-prod-analytics.sql.gpg').table, 'teams');
    assert.equal(recognizeFileName('edX-DemoX-Demo_2014-teams_courseteammembership-prod-analytics.sql.gpg').table, 'teams_membership');
  });
  test('an unknown .sql table with a valid env suffix is still a weekly table', () => {
    const f = recognizeFileName('edX-DemoX-Demo_2014-new_platform_table-prod-analytics.sql.gpg');
    assert.equal(f.kind, 'weekly-table');
    assert.equal(f.table, 'new_platform_table');
  });
  test('every known table is recognised', () => {
    for (const table of KNOWN_WEEKLY_TABLES) {
      const f = recognizeFileName(`HarvardX-CS50-X-${table}-prod-analytics.sql.gpg`);
      assert.equal(f.table, table);
      assert.equal(f.courseKey, 'HarvardX-CS50-X');
      assert.equal(f.ora, false);
    }
  });
  test('ora/ members', () => {
    for (const table of ORA_TABLES) {
      const f = recognizeFileName(`uqx-2016-01-03/ora/UQx-Write101x-3T2015-${table}-prod-analytics.sql.gpg`);
      assert.equal(f.kind, 'weekly-table');
      assert.equal(f.table, table);
      assert.equal(f.ora, true);
      assert.equal(f.courseKey, 'UQx-Write101x-3T2015');
    }
  });
  test('course structure JSON and OLX tarball', () => {
    const j = recognizeFileName('DelftX-EX101x-2T2018-course_structure-prod-analytics.json.gpg');
    assert.equal(j.kind, 'course-structure');
    assert.equal(j.courseKey, 'DelftX-EX101x-2T2018');
    const o = recognizeFileName('DelftX-EX101x-2T2018-course-prod-analytics.xml.tar.gz.gpg');
    assert.equal(o.kind, 'olx');
    assert.equal(o.courseKey, 'DelftX-EX101x-2T2018');
  });
  test('forum .mongo uses the bare environment -prod / -edge', () => {
    const p = recognizeFileName('UQx-THINK101x-1T2014-prod.mongo.gpg');
    assert.equal(p.kind, 'forum');
    assert.equal(p.courseKey, 'UQx-THINK101x-1T2014');
    assert.equal(p.env, 'prod');
    assert.equal(p.site, 'edx');
    const e = recognizeFileName('UQx-THINK101x-1T2014-edge.mongo.gpg');
    assert.equal(e.env, 'edge');
    assert.equal(e.site, 'edge');
    // The legacy production form `{course}.mongo` the exporter's ForumsTask mentions.
    const legacy = recognizeFileName('UQx-THINK101x-1T2014.mongo.gpg');
    assert.equal(legacy.kind, 'forum');
    assert.equal(legacy.courseKey, 'UQx-THINK101x-1T2014');
    assert.equal(legacy.env, 'prod');
  });
  test('a course part that contains a task name does not capture an unfamiliar env', () => {
    const f = recognizeFileName('edX-teams-2015-new_table-odd-env.sql');
    assert.equal(f.kind, 'unknown');
  });
  test('CCX courses keep the ccx suffix in the course key', () => {
    const f = recognizeFileName('edX-DemoX-Demo_2014-ccx-3-auth_user-prod-analytics.sql.gpg');
    assert.equal(f.courseKey, 'edX-DemoX-Demo_2014-ccx-3');
  });
  test('email opt-in CSV', () => {
    const f = recognizeFileName('email-opt-in/delftx-2018-12-09/delftx-email_opt_in-prod-analytics.csv.gpg');
    assert.equal(f.kind, 'email-opt-in');
    assert.equal(f.org, 'delftx');
    assert.equal(f.env, 'prod-analytics');
  });
  test('directories, Windows separators and strangers', () => {
    assert.equal(recognizeFileName('uqx-2015-01-04/').kind, 'unknown');
    assert.equal(recognizeFileName('C:\\data\\uqx-2015-01-04\\ora\\UQx-A-B-submissions_score-prod-analytics.sql.gpg').ora, true);
    assert.equal(recognizeFileName('credentials.csv.gpg').kind, 'unknown');
    assert.equal(recognizeFileName('orgx/rdx/123/orgx_c_r.tar.gz.gpg').kind, 'unknown');
    assert.equal(recognizeFileName('README.txt').kind, 'unknown');
  });
});

describe('.failed files (§1.3, §7.12)', () => {
  test('a failed table export names what it would have been', () => {
    const f = recognizeFileName('uqx-2016-01-03/UQx-A-B-auth_user-prod-analytics.sql.failed.gpg');
    assert.equal(f.kind, 'export-failed');
    assert.equal(f.name, 'UQx-A-B-auth_user-prod-analytics.sql.failed.gpg');
    assert.equal(f.encrypted, true);
    assert.equal(f.courseKey, 'UQx-A-B');
    assert.equal(f.table, 'auth_user');
    assert.equal(f.failedOf?.kind, 'weekly-table');
    assert.equal(f.failedOf?.name, 'UQx-A-B-auth_user-prod-analytics.sql.gpg');
    assert.equal(f.failedOf?.table, 'auth_user');
  });
  test('failed ORA table and failed course structure', () => {
    const f = recognizeFileName('x-2016-01-03/ora/UQx-A-B-assessment_criterion-prod-analytics.sql.failed.gpg');
    assert.equal(f.kind, 'export-failed');
    assert.equal(f.failedOf?.ora, true);
    const g = recognizeFileName('UQx-A-B-course_structure-prod-analytics.json.failed');
    assert.equal(g.kind, 'export-failed');
    assert.equal(g.encrypted, false);
    assert.equal(g.failedOf?.kind, 'course-structure');
  });
  test('a .failed of something unrecognisable stays unknown', () => {
    assert.equal(recognizeFileName('whatever.failed.gpg').kind, 'unknown');
  });
});

describe('md5-suffixed over-long names (exporter get_filename_template)', () => {
  const longRun = `Run_${'x'.repeat(200)}`;
  const course = `LongX-Course-${longRun}`;

  test('the helper reproduces the exporter: fixed length, md5 of the env name', () => {
    const name = exporterName(course, 'auth_user', 'prod-analytics', 'sql');
    assert.equal(name.length, 237);
    assert.ok(name.endsWith('-b140b895e008fcc2eeff3c21479faba3.sql'));
  });

  test('cut inside the course part: env known from the md5, table unknown', () => {
    const name = exporterName(course, 'auth_user', 'prod-analytics', 'sql');
    const f = recognizeFileName(`${name}.gpg`);
    assert.equal(f.kind, 'unknown');
    assert.equal(f.truncated, true);
    assert.equal(f.env, 'prod-analytics');
  });

  /** A course part of `length` characters. */
  const entityOf = (length: number): string => `MITx-Long-${'y'.repeat(length - 10)}`;

  test('cut inside the task name: a unique beginning names the table', () => {
    // 182 + 1 characters of course part: the 200-character cut keeps `certificates_gene`.
    const entity = entityOf(182);
    const name = exporterName(entity, 'certificates_generatedcertificate', 'prod-edge-analytics', 'sql');
    assert.equal(name.length, 237);
    assert.ok(name.includes('-certificates_gene-'));
    const f = recognizeFileName(`x-2020-01-05/${name}.gpg`);
    assert.equal(f.kind, 'weekly-table');
    assert.equal(f.truncated, true);
    assert.equal(f.table, 'certificates_generatedcertificate');
    assert.equal(f.courseKey, entity);
    assert.equal(f.env, 'prod-edge-analytics');
    assert.equal(f.site, 'edge');
    const sm = recognizeFileName(exporterName(entityOf(191), 'courseware_studentmodule', 'prod-analytics', 'sql'));
    assert.equal(sm.table, 'courseware_studentmodule');
    assert.equal(sm.courseKey, entityOf(191));
  });

  test('an ambiguous beginning is not guessed (wiki_article vs wiki_articlerevision)', () => {
    const name = exporterName(entityOf(195), 'wiki_articlerevision', 'prod-analytics', 'sql');
    assert.ok(name.includes('-wiki-'));
    const f = recognizeFileName(name);
    assert.equal(f.kind, 'unknown');
    assert.equal(f.truncated, true);
    assert.equal(f.env, 'prod-analytics');
  });

  test('too little of the task left is not guessed', () => {
    const f = recognizeFileName(exporterName(entityOf(198), 'verify_student_verificationstatus', 'prod-analytics', 'sql'));
    assert.equal(f.kind, 'unknown');
    assert.equal(f.truncated, true);
  });

  test('the folder narrows the candidates: ora/ tables vs course tables', () => {
    const name = exporterName(entityOf(172), 'assessment_trainingexample_options_selected', 'prod-analytics', 'sql');
    assert.ok(name.includes('-assessment_trainingexample_-'));
    const ora = recognizeFileName(`p/ora/${name}.gpg`);
    assert.equal(ora.kind, 'weekly-table');
    assert.equal(ora.table, 'assessment_trainingexample_options_selected');
    assert.equal(ora.ora, true);
    assert.equal(recognizeFileName(`p/${name}.gpg`).kind, 'unknown');
    // Ambiguous within the ORA tables: `submissi…`.
    assert.equal(recognizeFileName(`p/ora/${exporterName(entityOf(191), 'submissions_scoresummary', 'prod-analytics', 'sql')}`).kind, 'unknown');
  });

  test('course structure and OLX with cut names: the extension names the task', () => {
    const cs = recognizeFileName(`${exporterName(entityOf(198), 'course_structure', 'prod-analytics', 'json')}.gpg`);
    assert.equal(cs.kind, 'course-structure');
    assert.equal(cs.courseKey, entityOf(198));
    assert.equal(cs.truncated, true);
    const olx = recognizeFileName(`${exporterName(entityOf(230), 'course', 'prod-analytics', 'xml.tar.gz')}.gpg`);
    assert.equal(olx.kind, 'olx');
    assert.equal(olx.courseKey, entityOf(230).slice(0, 193));
  });

  test('an md5 of an unknown environment leaves the name opaque', () => {
    const f = recognizeFileName(`${'c'.repeat(200)}-${'0'.repeat(32)}.sql.gpg`);
    assert.equal(f.kind, 'unknown');
    assert.equal(f.truncated, true);
    assert.equal(f.env, undefined);
  });

  test('a .failed of a cut name', () => {
    const f = recognizeFileName(`${exporterName(entityOf(183), 'django_comment_client_role_users', 'prod-analytics', 'sql')}.failed.gpg`);
    assert.equal(f.kind, 'export-failed');
    assert.equal(f.failedOf?.table, 'django_comment_client_role_users');
    assert.equal(f.failedOf?.truncated, true);
  });

  test('short names are never marked truncated', () => {
    assert.equal(recognizeFileName('edX-DemoX-Demo_2014-auth_user-prod-analytics.sql').truncated, undefined);
  });
});
