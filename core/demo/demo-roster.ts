/**
 * The learners, courses and enrollments of the demo org. Every table of the weekly package and
 * every tracking-log event is drawn from this one roster, so ids agree across files: a user in a
 * course's enrollment file is in that course's auth_user and auth_userprofile, their anonymous id
 * is the one the ORA tables use, and events come only from active enrollments (docs/edx-formats.md §4).
 */
import { createHash } from 'node:crypto';

import { pythonJson } from './python-json.js';
import type { SeededRandom } from './seeded-random.js';
import { sqlDateTime } from './tsv-line.js';

/** How one demo course is exported. */
export interface DemoCourseSpec {
  courseId: string;
  /** `edx` (courses.edx.org) or `edge` (edge.edx.org): edge courses get `prod-edge-analytics` names (§1.3). */
  site: 'edx' | 'edge';
  /** Exporter environment in the file names. */
  env: 'prod-analytics' | 'prod-edge-analytics';
  /** user_id_map header: `id` before Oct 2022, `user_id` after (§4.6). */
  userIdMapIdColumn: 'id' | 'user_id';
  /** Writes auth_userprofile as an old `SELECT *` with `allow_certificate` and without `state` (§4.2). */
  profileDrift: boolean;
  /** Number of learners enrolled (active or not). */
  enrollments: number;
  /** Has teams and team memberships (others get header-only files). */
  teams: boolean;
  /** Has cohorts. */
  cohorts: boolean;
  /** False: no courseware_studentmodule file at all, as for a course without activity (§1.3). */
  studentModule: boolean;
  /** Ships the OLX export `{c}-course-{env}.xml.tar.gz`. */
  olx: boolean;
  /** How the forum dump writes `$date` (§4.11: mongoexport versions differ). */
  forumDates: 'number' | 'iso' | 'mixed';
  /** Usernames of the fixed learners (see SPECIAL) enrolled here, so each quirk lands where it is exported and logged. */
  include: string[];
  /** Also enrolls the retired learners (their rows stay after retirement, §7.14). */
  includeRetired: boolean;
}

/** The profile columns of auth_userprofile that vary per user (§4.2). */
export interface DemoProfile {
  name: string;
  language: string;
  location: string;
  meta: string;
  courseware: string;
  gender: string | null;
  mailingAddress: string | null;
  yearOfBirth: number | null;
  levelOfEducation: string | null;
  goals: string | null;
  country: string;
  city: string;
  bio: string | null;
  profileImageUploadedAt: string | null;
  state: string | null;
  allowCertificate: number;
}

/** One learner (or staff member) of the demo org. */
export interface DemoUser {
  id: number;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  isStaff: number;
  isSuperuser: number;
  isActive: number;
  lastLogin: string | null;
  dateJoined: string;
  /** GDPR-retired: `retired__user_{sha1}` username and redacted e-mail (§7.14). */
  retired: boolean;
  /** auth_userprofile.id (a different id space from auth_user.id, §4.7 languageproficiency). */
  profileId: number;
  profile: DemoProfile;
  /** student_languageproficiency codes. */
  languages: string[];
  /** user_id_map hash before Oct 2022: md5 hex. */
  legacyHash: string;
  /** The site-wide anonymous id (student_anonymoususerid with course_id ''), used after Oct 2022. */
  siteAnonymousId: string;
  /** Email opt-in preference; `null` when never set (defaults to True in the report, §3). */
  optIn: { optedIn: boolean; setAt: string } | null;
}

/** One student_courseenrollment row (§4.3). */
export interface DemoEnrollment {
  id: number;
  userId: number;
  courseId: string;
  created: string;
  isActive: number;
  mode: string;
  /** Course-specific anonymous id (student_anonymoususerid), the identity in ORA tables (§4.9). */
  anonymousId: string;
  /** student_anonymoususerid.id */
  anonymousRowId: number;
}

/** The service account that shows up in every course's user_id_map without being enrolled (§4.6). */
export interface DemoServiceUser {
  id: number;
  username: string;
  legacyHash: string;
  siteAnonymousId: string;
}

/** The whole roster. */
export interface DemoRoster {
  users: DemoUser[];
  usersById: Map<number, DemoUser>;
  enrollments: DemoEnrollment[];
  /** Enrollments per course id, in id order. */
  byCourse: Map<string, DemoEnrollment[]>;
  serviceUser: DemoServiceUser;
}

const FIRST = ['Amara', 'Ben', 'Carla', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kavya', 'Lucas', 'Mei', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tomás', 'Uma', 'Victor', 'Wen', 'Yusuf'];
const LAST = ['Adeyemi', 'Berg', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Haddad', 'Ivanova', 'Jensen', 'Kowalski', 'Lindqvist', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Rossi', 'Santos', 'Tanaka', 'Varga', 'Weber', 'Zhang'];
const COUNTRIES = ['US', 'IN', 'GB', 'FR', 'DE', 'BR', 'CN', 'JP', 'NG', 'AU', 'CA', 'MX', ''];
const EDUCATION = ['p', 'm', 'b', 'a', 'hs', 'jhs', 'el', 'none', 'other', '', 'p_se', 'p_oth'];
const GENDERS = ['m', 'f', 'o', ''];
const LANGUAGES = ['en', 'es', 'fr', 'zh', 'hi', 'ar', 'pt', 'de'];

/**
 * Fixed learners with the awkward values §3 and §7 call for. Index 0 is `bob`, whose username
 * the event quirks send with a trailing newline (§7.7).
 */
const SPECIAL: readonly Partial<DemoProfile & { username: string; firstName: string; lastName: string; email: string }>[] = [
  {
    username: 'bob',
    name: "Bob O'Neil",
    email: 'bob.oneil@example.org',
    firstName: 'Bob',
    lastName: "O'Neil",
    meta: pythonJson({
      old_emails: [['bob@old.example.org', '2019-02-03T04:05:06.789012+00:00']],
      old_names: [['Bobby "B" O\'Neil', 'I prefer Bob', '2020-01-01T00:00:00+00:00']],
    }),
  },
  { username: 'zoe_ng', name: 'Zoë Ng 😀', email: 'zoe.ng@example.com' },
  { username: 'yoshino_k', name: '𠮷野 花子', email: 'hanako.yoshino@example.jp', city: '東京' },
  { username: 'li_wei', name: '李伟', email: 'li.wei@example.cn', city: '北京', language: '中文' },
  {
    username: 'marie_dorsay',
    name: "Marie d'Orsay",
    email: 'marie.dorsay@example.fr',
    city: 'Orsay',
    // TAB, LF, CR and backslash inside fields exercise every TSV escape of §3.
    goals: 'Learn R\tand Python\nfor my thesis',
    mailingAddress: '12 rue de Paris\r\n91400 Orsay',
    bio: 'I typeset with \\LaTeX and write paths like C:\\data\\new',
  },
  { username: 'jane_smith', name: 'Smith, Jane "JJ"', email: 'jane+edx@example.com' },
  { username: 'josé_ruiz', name: 'José Ruiz', email: 'jose.ruiz@example.es' },
  { username: 'demo_staff', name: 'Demo Course Staff', email: 'staff@demox.example.org' },
];

function md5Hex(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

function sha1Hex(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Options for `buildDemoRoster`. */
export interface BuildDemoRosterOptions {
  courses: readonly DemoCourseSpec[];
  /** Package date at 00:00 UTC, epoch ms: every timestamp lies before it. */
  packageMs: number;
  rng: SeededRandom;
  /** Org name: salts the identity hashes so two orgs never share them. */
  org: string;
}

const DAY_MS = 86_400_000;

/** Builds users and enrollments for `courses`. Users without an enrollment are not kept (auth_user is per enrollment, §4.1). */
export function buildDemoRoster(options: BuildDemoRosterOptions): DemoRoster {
  const { courses, packageMs, org } = options;
  const rng = options.rng.fork('roster');
  const poolSize = Math.max(SPECIAL.length + 4, Math.ceil(courses.reduce((n, c) => n + c.enrollments, 0) * 0.8));
  const earliest = Date.UTC(2013, 2, 1);

  // Join dates first, sorted, so auth_user ids grow with date_joined as they do in edxapp.
  const joined = Array.from({ length: poolSize }, () => earliest + rng.next() * (packageMs - 30 * DAY_MS - earliest)).sort((a, b) => a - b);
  let nextId = 2_100_000 + rng.int(0, 50_000);
  let nextProfileId = 1_900_000 + rng.int(0, 50_000);
  const specialOrder = rng.shuffle(SPECIAL.map((_, i) => i));
  const specialAt = new Map<number, number>();
  // Spread the special learners over the pool (bob joins early enough to be in every course).
  specialOrder.forEach((s, i) => specialAt.set(Math.floor(((i + 0.5) * poolSize) / SPECIAL.length), s));

  const users: DemoUser[] = [];
  let retiredLeft = 2;
  for (let i = 0; i < poolSize; i++) {
    nextId += rng.int(1, 400_000);
    nextProfileId += rng.int(1, 380_000);
    const special = specialAt.has(i) ? SPECIAL[specialAt.get(i) as number] : undefined;
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const baseName = `${first} ${last}`;
    // Two learners asked to be forgotten: their rows stay, their identity is gone (§7.14).
    const retired = special === undefined && retiredLeft > 0 && i % 7 === 3;
    if (retired) retiredLeft--;
    const retiredHash = sha1Hex(`retired-${nextId}`);
    const username = retired
      ? `retired__user_${retiredHash}`
      : special?.username ?? `${first.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()}_${last.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase().slice(0, 4)}${rng.int(1, 999)}`;
    const email = retired
      ? `retired__user_${retiredHash}@retired.invalid`
      : special?.email ?? `${username}@example.${rng.pick(['com', 'org', 'net', 'edu'])}`;
    const joinedMs = joined[i];
    const neverLoggedIn = rng.chance(0.05);
    const hasProfileData = !retired && rng.chance(0.85);
    const profile: DemoProfile = {
      name: retired ? '' : special?.name ?? baseName,
      language: special?.language ?? '',
      location: '',
      // JSON text in a TSV column (§3): its own escapes (`\"`) get their backslash doubled on export.
      meta: retired
        ? ''
        : special?.meta ?? (rng.chance(0.15) ? pythonJson({ old_names: [[`${first} "${last[0]}." ${last}`, 'typo', sqlDateTime(joinedMs + DAY_MS, 0)]] }) : ''),
      courseware: 'course.xml',
      gender: hasProfileData ? rng.pick(GENDERS) : rng.chance(0.5) ? null : '',
      mailingAddress: special?.mailingAddress ?? (hasProfileData && rng.chance(0.3) ? `${rng.int(1, 400)} Main Street` : rng.chance(0.5) ? null : ''),
      yearOfBirth: hasProfileData && rng.chance(0.8) ? rng.int(1950, 2008) : null,
      levelOfEducation: hasProfileData ? rng.pick(EDUCATION) : null,
      goals: special?.goals ?? (hasProfileData && rng.chance(0.4) ? rng.pick(['Career change', 'Curiosity', 'Prepare for my degree', 'Teach this topic']) : null),
      country: retired ? '' : rng.pick(COUNTRIES),
      city: special?.city ?? (hasProfileData && rng.chance(0.5) ? rng.pick(['Boston', 'Pune', 'Lagos', 'Lyon', 'São Paulo', 'Toronto']) : ''),
      bio: special?.bio ?? (hasProfileData && rng.chance(0.2) ? 'Lifelong learner.' : null),
      profileImageUploadedAt: hasProfileData && rng.chance(0.2) ? sqlDateTime(joinedMs + rng.int(1, 200) * DAY_MS, rng.chance(0.5) ? 0 : rng.int(1, 999_999)) : null,
      state: hasProfileData && rng.chance(0.3) ? rng.pick(['MA', 'CA', 'NY', '']) : null,
      allowCertificate: rng.chance(0.97) ? 1 : 0,
    };
    const lastLoginMs = joinedMs + rng.next() * (packageMs - joinedMs);
    users.push({
      id: nextId,
      username,
      email,
      firstName: special?.firstName ?? '',
      lastName: special?.lastName ?? '',
      isStaff: special?.username === 'demo_staff' ? 1 : 0,
      isSuperuser: 0,
      isActive: retired ? 0 : rng.chance(0.97) ? 1 : 0,
      lastLogin: neverLoggedIn ? null : sqlDateTime(lastLoginMs, rng.chance(0.3) ? 0 : rng.int(1, 999_999)),
      dateJoined: sqlDateTime(joinedMs, rng.chance(0.2) ? 0 : rng.int(1, 999_999)),
      retired,
      profileId: nextProfileId,
      profile,
      languages: hasProfileData && rng.chance(0.4) ? rng.sample(LANGUAGES, rng.int(1, 2)) : [],
      legacyHash: md5Hex(`legacy-${org}-${nextId}`),
      siteAnonymousId: md5Hex(`site-${org}-${nextId}-${rng.hex(8)}`),
      optIn: rng.chance(0.25) ? null : { optedIn: rng.chance(0.7), setAt: `${sqlDateTime(joinedMs + rng.int(0, 30) * DAY_MS, 0)}+00:00` },
    });
  }

  const byUsername = new Map(users.map((u) => [u.username, u]));
  const retiredUsers = users.filter((u) => u.retired);

  const enrollments: DemoEnrollment[] = [];
  const byCourse = new Map<string, DemoEnrollment[]>();
  let nextEnrollmentId = 61_000_000 + rng.int(0, 1_000_000);
  let nextAnonymousRowId = 8_400_000 + rng.int(0, 100_000);
  for (const course of courses) {
    const chosen = new Set<DemoUser>(course.include.flatMap((name) => byUsername.get(name) ?? []));
    if (course.includeRetired) for (const u of retiredUsers) chosen.add(u);
    for (const u of rng.shuffle(users)) {
      if (chosen.size >= course.enrollments) break;
      chosen.add(u);
    }
    const rows: DemoEnrollment[] = [];
    const members = [...chosen].sort((a, b) => a.id - b.id);
    // At least one unenrolled row per course: rows are kept with is_active=0 (§4.3).
    const inactiveIndex = members.findIndex((u) => !u.isStaff && u.username !== 'bob');
    for (const [i, user] of members.entries()) {
      const joinedMs = Date.parse(`${user.dateJoined.slice(0, 10)}T00:00:00Z`);
      const createdMs = Math.max(joinedMs, packageMs - 400 * DAY_MS) + rng.next() * 200 * DAY_MS;
      const mode =
        course.site === 'edge'
          ? rng.pick(['honor', 'audit'])
          : user.isStaff
            ? 'honor'
            : rng.weighted([
                ['audit', 45],
                ['verified', 30],
                ['honor', 8],
                ['professional', 5],
                ['no-id-professional', 3],
                ['masters', 6],
                ['credit', 3],
              ] as const);
      const isActive = i === inactiveIndex || (user.username !== 'bob' && !user.isStaff && rng.chance(0.12)) ? 0 : 1;
      nextEnrollmentId += rng.int(1, 5000);
      nextAnonymousRowId += rng.int(1, 3000);
      rows.push({
        id: nextEnrollmentId,
        userId: user.id,
        courseId: course.courseId,
        created: sqlDateTime(Math.min(createdMs, packageMs - DAY_MS), rng.chance(0.25) ? 0 : rng.int(1, 999_999)),
        isActive,
        mode,
        anonymousId: md5Hex(`anon-${course.courseId}-${user.id}-${rng.hex(6)}`),
        anonymousRowId: nextAnonymousRowId,
      });
    }
    byCourse.set(course.courseId, rows);
    enrollments.push(...rows);
  }

  const enrolledIds = new Set(enrollments.map((e) => e.userId));
  const kept = users.filter((u) => enrolledIds.has(u.id));
  return {
    users: kept,
    usersById: new Map(kept.map((u) => [u.id, u])),
    enrollments,
    byCourse,
    serviceUser: {
      id: 30,
      username: 'course_discovery_worker',
      legacyHash: md5Hex(`legacy-${org}-30`),
      siteAnonymousId: md5Hex(`site-${org}-30`),
    },
  };
}
