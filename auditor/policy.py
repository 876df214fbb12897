"""The clauses of Policy 4-303 that the rules enforce, quoted word for word.

Source: Danbury Public Schools, Policy 4-303 "Employee Social Networking", section
"Rules Concerning District-Sponsored Social Media Activity" (shared/policy-4-303.txt).
"""

from __future__ import annotations

POLICY_NAME = "Policy 4-303, Rules Concerning District-Sponsored Social Media Activity"

CLAUSES: dict[str, str] = {
    "DS 1": (
        "If an employee seeks to use social media sites as an educational tool or in relation "
        "to extracurricular activities or programs of the school district, the employee must "
        "seek and obtain the permission of his/her supervisor prior to setting up the site."
    ),
    "DS 2 closed and moderated": (
        'The employee must set up the club, etc. as a group list which will be "closed and '
        'moderated."'
    ),
    "DS 2 members, not friends": (
        'Members will not be established as "friends," but as members of the group list.'
    ),
    "DS 2 invitation": (
        "Anyone who has access to the communications conveyed through the site may only gain "
        "access by the permission of the employee (e.g. teacher, administrator, supervisor or "
        "coach). Persons desiring to access the page may join only after the employee invites "
        "them and allows them to join."
    ),
    "DS 2 parents": "Parents shall be permitted to access any site that their child has been "
    "invited to join.",
    "DS 2 educational purposes": (
        "Access to the site may only be permitted for educational purposes related to the "
        "club, activity, organization or team."
    ),
    "DS 2 monitoring": "The employee responsible for the site will monitor it regularly.",
    "DS 2 supervisor access": (
        "The employee's supervisor shall be permitted access to any site established by the "
        "employee for a school-related purpose."
    ),
    "DS 2 professional boundaries": (
        "Employees are required to maintain appropriate professional boundaries in the "
        "establishment and maintenance of all such district-sponsored social media activity."
    ),
    "DS 3": (
        "Employees are required to use appropriately respectful speech in their social media "
        "posts on district-sponsored sites; and to refrain from harassing, defamatory, "
        "abusive, discriminatory, threatening or other inappropriate communications."
    ),
    "DS 6": (
        "All posts on district-sponsored social media must comply with the Board of "
        "Education's policies concerning confidentiality, including the confidentiality of "
        "student information."
    ),
    "DS 7": (
        "An employee may not link a district-sponsored social media site or webpage to any "
        "personal social media sites or sites not sponsored by the school district."
    ),
    "DS 8": (
        "An employee may not use district-sponsored social media communications for private "
        "financial gain, political, commercial, advertisement, proselytizing or solicitation "
        "purpose."
    ),
    "DS 9": (
        "An employee may not use district-sponsored social media communications in a manner "
        "that misrepresents personal views as those of the Board of Education, individual "
        "school or school district, or in a manner that could be construed as such."
    ),
}
