import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'

import type { Membership } from '@/api/organizations'

import MemberList from './MemberList.vue'

function member(id: number, username: string, role: Membership['role']): Membership {
  return {
    id,
    role,
    joined_at: '2025-01-01T00:00:00Z',
    user: {
      id: id * 10,
      username,
      email: `${username}@example.org`,
      first_name: '',
      last_name: '',
      is_staff: false,
      date_joined: '2025-01-01T00:00:00Z',
    },
  }
}

const MEMBERS = [
  member(1, 'olga', 'owner'),
  member(2, 'adam', 'admin'),
  member(3, 'aud', 'auditor'),
]

describe('MemberList', () => {
  it('offers an auditor no edit controls at all', () => {
    const wrapper = mount(MemberList, {
      props: { members: MEMBERS, canManage: false, isOwner: false, currentUserId: 30 },
    })
    expect(
      wrapper.findAll('[data-testid="member-row-olga"], [data-testid="member-row-aud"]'),
    ).toHaveLength(2)
    expect(wrapper.find('select').exists()).toBe(false)
    expect(wrapper.find('button').exists()).toBe(false)
    expect(wrapper.get('[data-testid="member-row-olga"] [data-testid="member-role"]').text()).toBe(
      'Owner',
    )
  })

  it('lets an admin change and remove members but not owners, and never offer the owner role', () => {
    const wrapper = mount(MemberList, {
      props: { members: MEMBERS, canManage: true, isOwner: false, currentUserId: 20 },
    })
    expect(wrapper.find('[data-testid="member-row-olga"] select').exists()).toBe(false)
    expect(
      wrapper.find('[data-testid="member-row-olga"] [data-testid="member-remove"]').exists(),
    ).toBe(false)
    const select = wrapper.get('[data-testid="member-row-aud"] select')
    expect(select.findAll('option').map((o) => o.attributes('value'))).toEqual([
      'admin',
      'member',
      'auditor',
    ])
    // Not oneself: leaving is a separate, confirmed action.
    expect(
      wrapper.find('[data-testid="member-row-adam"] [data-testid="member-remove"]').exists(),
    ).toBe(false)
    expect(
      wrapper.find('[data-testid="member-row-aud"] [data-testid="member-remove"]').exists(),
    ).toBe(true)
  })

  it('emits the change and the removal', async () => {
    const wrapper = mount(MemberList, {
      props: { members: MEMBERS, canManage: true, isOwner: true, currentUserId: 10 },
    })
    await wrapper.get('[data-testid="member-row-aud"] select').setValue('member')
    expect(wrapper.emitted('changeRole')?.[0]).toEqual([MEMBERS[2], 'member'])
    await wrapper
      .get('[data-testid="member-row-adam"] [data-testid="member-remove"]')
      .trigger('click')
    expect(wrapper.emitted('remove')?.[0]).toEqual([MEMBERS[1]])
  })
})
